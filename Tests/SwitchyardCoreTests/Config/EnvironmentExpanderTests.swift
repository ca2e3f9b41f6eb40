import SwitchyardCore
import SwitchyardTesting
import Testing

/// `${NAME}`, `${NAME:-default}` and `$${` in config string values, through the loader as
/// `serve`, `check` and reloads use it.
@Suite struct EnvironmentExpanderTests {
    /// A config whose provider header `X-Test` is `template` (single-quoted YAML, taken as written).
    static func yaml(_ template: String) -> String {
        """
        providers:
          up: { base_url: "http://127.0.0.1:9/v1", api_key: k, headers: { X-Test: '\(template)' } }
        routes: [ { name: d, match: { models: ["*"] }, targets: [ { provider: up, model: m } ] } ]
        """
    }

    static let environment = ["A": "x", "B_2": "y", "EMPTY": ""]

    func expanded(_ template: String) throws -> String? {
        try StageHarness.config(Self.yaml(template), environment: Self.environment).providers.first?.headers.first?.1
    }

    func problems(_ template: String) -> [String] {
        do {
            _ = try StageHarness.config(Self.yaml(template), environment: Self.environment)
            Issue.record("loaded")
            return []
        } catch let error as ConfigError {
            return error.problems.map(\.description)
        } catch {
            Issue.record("\(error)")
            return []
        }
    }

    @Test(arguments: [
        ("${A}", "x"),
        ("pre-${A}-post", "pre-x-post"),
        ("${A}${B_2}", "xy"),
        ("${A:-fallback}", "x"),
        ("${UNSET:-fallback}", "fallback"),
        ("${UNSET:-}", ""),
        ("${EMPTY:-fallback}", "fallback"),  // an empty variable counts as unset
        ("${UNSET:-a:-b}", "a:-b"),  // the first `:-` separates
        ("${UNSET:-has spaces/and:colons}", "has spaces/and:colons"),
        ("$${A}", "${A}"),  // `$${` is a literal `${`
        ("$${A} and ${A}", "${A} and x"),
        ("cost $5", "cost $5"),  // a `$` not before `{` is literal
        ("$A", "$A"),
        ("trailing $", "trailing $"),
        ("no variables", "no variables"),
    ])
    func expands(_ template: String, _ result: String) throws {
        #expect(try expanded(template) == result)
    }

    @Test(arguments: ["${UNSET}", "a-${UNSET}-b", "${EMPTY}"])
    func aMissingVariableNamesItAndItsKeyPath(_ template: String) {
        let name = template.contains("EMPTY") ? "EMPTY" : "UNSET"
        #expect(problems(template) == ["providers.up.headers.X-Test: environment variable \(name) is not set (use ${\(name):-default} for a default) (line 2)"])
    }

    @Test(arguments: ["${A", "${}", "${A-B}", "${A B}", "${:-x}", "x ${A.B} y"])
    func aMalformedReferenceIsAProblem(_ template: String) {
        #expect(problems(template) == ["providers.up.headers.X-Test: malformed ${...} reference (line 2)"])
    }

    @Test func everyMissingVariableIsReported() {
        let yaml = """
            server: { listen: "127.0.0.1:${PORT}" }
            providers:
              up: { base_url: "${BASE}", api_key: "${KEY}" }
            routes: [ { name: d, match: { models: ["*"] }, targets: [ { provider: up, model: "${MODEL}" } ] } ]
            """
        do {
            _ = try StageHarness.config(yaml)
            Issue.record("loaded")
        } catch let error as ConfigError {
            let text = error.problems.map(\.description)
            #expect(text.contains { $0.hasPrefix("server.listen: environment variable PORT is not set") })
            #expect(text.contains { $0.hasPrefix("providers.up.base_url: environment variable BASE is not set") })
            #expect(text.contains { $0.hasPrefix("routes[0].targets[0].model: environment variable MODEL is not set") })
            // An unset upstream key is not a load error: the mapper names it per request.
            #expect(!text.contains { $0.contains("KEY") })
            #expect(text.count == 3, "\(text)")
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test func commentsAreNeverExpanded() throws {
        let yaml = """
            # ${NOT_SET_ANYWHERE} in a comment
            providers:
              up: { base_url: "http://127.0.0.1:9/v1", api_key: k }  # ${NOR_HERE}
            routes: [ { name: d, match: { models: ["*"] }, targets: [ { provider: up, model: m } ] } ]
            """
        #expect(try StageHarness.config(yaml).routes.count == 1)
    }

    @Test func expandedValuesAreTypedAfterExpansion() throws {
        let yaml = """
            server: { listen: "127.0.0.1:${PORT:-8123}", max_body_bytes: "${BODY:-1MiB}" }
            providers:
              up: { base_url: "http://127.0.0.1:9/v1", api_key: "${KEY}" }
            routes: [ { name: d, match: { models: ["*"] }, targets: [ { provider: up, model: m, max_tokens: "${CAP}" } ] } ]
            """
        let config = try StageHarness.config(yaml, environment: ["KEY": "sk-from-env", "CAP": "77", "BODY": "2MiB"])
        #expect(config.server.port == 8123)
        #expect(config.server.maxBodyBytes == 2 << 20)
        #expect(config.providers[0].apiKey?.exposedValue == "sk-from-env")
        #expect(config.routes[0].targets[0].maxTokens == 77)
    }
}
