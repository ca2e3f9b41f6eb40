import Foundation
import SwitchyardCore
import SwitchyardTesting
import SwitchyardWire
import Testing

@Suite struct ConfigLoaderTests {
    static let minimal = """
        providers:
          or: { kind: openai, base_url: "https://openrouter.ai/api/v1", api_key: "${KEY}" }
        routes:
          - name: default
            match: { models: ["*"] }
            targets: [ { provider: or, model: "m/a" } ]
        """

    @Test func minimalConfigGetsDefaults() throws {
        let c = try StageHarness.config(Self.minimal, environment: ["KEY": "k1"])
        #expect(c.server.host == "127.0.0.1")
        #expect(c.server.port == 8000)
        #expect(c.server.maxBodyBytes == 32 << 20)
        #expect(c.auth == .open)
        #expect(c.providers[0].dialect == .openrouter)
        #expect(c.providers[0].apiKey?.exposedValue == "k1")
        #expect(c.pipeline == StageName.allCases)
        #expect(c.fallback.on.count == 5)
        #expect(c.fallback.cooldown == .seconds(30))
    }

    @Test func proxyPortOverridesTheDefaultListenPort() throws {
        let c = try StageHarness.config(Self.minimal, environment: ["KEY": "k", "PROXY_PORT": "9123"])
        #expect(c.server.port == 9123)
    }

    @Test func missingUpstreamKeyVariableIsNotAnError() throws {
        let c = try StageHarness.config(Self.minimal, environment: [:])
        #expect(c.providers[0].apiKey == nil)
        #expect(c.providers[0].missingKeyVariable == "KEY")
    }

    @Test func everyProblemIsReportedWithPathAndLine() throws {
        let yaml = """
            server:
              listen: 127.0.0.1:8000
              bogus: 1
            providers:
              or: { kind: openai, base_url: "https://x.example/v1" }
            routes:
              - name: r1
                match: { models: ["*"] }
                targets:
                  - provider: openroutr
                    model: m
                limits: { rpm: 0 }
            users:
              - name: bob
                token_sha256: abc
            """
        do {
            _ = try StageHarness.config(yaml)
            Issue.record("expected problems")
        } catch let error as ConfigError {
            let text = error.problems.map(\.description)
            #expect(text.contains { $0.hasPrefix("server.bogus: unknown key") && $0.hasSuffix("(line 3)") }, "\(text)")
            #expect(text.contains { $0.hasPrefix("routes[0].targets[0].provider: unknown provider \"openroutr\"") && $0.contains("(line 10)") }, "\(text)")
            #expect(text.contains { $0.hasPrefix("routes[0].limits.rpm: must be positive") }, "\(text)")
            #expect(text.contains { $0.hasPrefix("users[0].token_sha256: expected 64 hexadecimal") }, "\(text)")
            #expect(error.problems.count == 4, "\(text)")
        }
    }

    @Test func variablesExpandWithDefaultsAndMissingOnesAreNamed() throws {
        let yaml = """
            server: { listen: "127.0.0.1:${PORT:-8123}" }
            providers:
              or: { base_url: "${BASE}", api_key: k }
            routes: [ { name: d, match: { models: ["*"] }, targets: [ { provider: or, model: "${MODEL}" } ] } ]
            """
        let ok = try StageHarness.config(yaml, environment: ["BASE": "http://127.0.0.1:1/v1", "MODEL": "x/y"])
        #expect(ok.server.port == 8123)
        #expect(ok.routes[0].targets[0].model == "x/y")
        #expect(ok.providers[0].dialect == .openai)
        #expect(throws: ConfigError.self) { try StageHarness.config(yaml, environment: ["BASE": "http://127.0.0.1:1/v1"]) }
        do { _ = try StageHarness.config(yaml, environment: ["BASE": "http://h/v1"]) } catch let e as ConfigError {
            #expect(e.problems.map(\.description).contains { $0.contains("routes[0].targets[0].model: environment variable MODEL is not set") })
        }
    }

    @Test func fileSecretsAreReadAndTrimmed() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try "sk-from-file\n".write(to: dir.appendingPathComponent("key"), atomically: true, encoding: .utf8)
        let yaml = """
            providers:
              or: { base_url: "https://openrouter.ai/api/v1", api_key: { file: key } }
            routes: [ { name: d, match: { models: ["*"] }, targets: [ { provider: or, model: m } ] } ]
            """
        let c = try ConfigLoader(environment: [:]).load(bytes: Array(yaml.utf8), baseDirectory: dir.path)
        #expect(c.providers[0].apiKey?.exposedValue == "sk-from-file")
        #expect("\(c.providers[0].apiKey!)" == "***")
        #expect(throws: ConfigError.self) { try ConfigLoader(environment: [:]).load(bytes: Array(yaml.utf8), baseDirectory: "/nonexistent") }
    }

    @Test func pipelineMustEndWithTransport() throws {
        let yaml = Self.minimal + "\npipeline: [logger, transport, mapper, translator]\n"
        do {
            _ = try StageHarness.config(yaml, environment: ["KEY": "k"])
            Issue.record("accepted")
        } catch let e as ConfigError {
            #expect(e.problems.map(\.description).contains { $0.contains("transport must be the last stage") })
        }
    }

    @Test func usersAndTokensAreValidated() throws {
        let hash = TokenFactory.hash("sy-abc")
        let yaml =
            Self.minimal + """

                auth: { mode: tokens }
                users:
                  - { name: a, token_sha256: \(hash), routes: [default] }
                  - { name: b, token_sha256: \(hash) }
                  - { name: c, token: "literal-token" }
                  - { name: d, token: "${D_TOKEN}", routes: [nope] }
                """
        do {
            _ = try StageHarness.config(yaml, environment: ["KEY": "k", "D_TOKEN": "t"])
            Issue.record("accepted")
        } catch let e as ConfigError {
            let text = e.problems.map(\.description)
            #expect(text.contains { $0.contains("duplicate token") })
            #expect(text.contains { $0.contains("users[2].token: a plain token must come from ${VAR}") })
            #expect(text.contains { $0.contains("users[3].routes: unknown route \"nope\"") })
        }
    }

    @Test func yamlSyntaxErrorsHaveALine() {
        do {
            _ = try StageHarness.config("routes:\n  - name: [unclosed\n")
            Issue.record("accepted")
        } catch let e as ConfigError {
            #expect(e.problems.first?.line != nil)
            #expect(e.problems.first?.message.contains("YAML syntax error") == true)
        } catch { Issue.record("\(error)") }
    }

    @Test func mergeKeysAndAnchorsWork() throws {
        let yaml = """
            x-timeouts: &t { connect: 1s, first_byte: 2s, idle: 3s }
            """
        // Top-level extension keys are not part of the contract: anchors must live inside known keys.
        #expect(throws: ConfigError.self) { try StageHarness.config(yaml + "\n" + Self.minimal, environment: ["KEY": "k"]) }
        let ok = """
            providers:
              a: &base { base_url: "http://127.0.0.1:1/v1", api_key: k, timeouts: { connect: 1s, first_byte: 2s, idle: 3s } }
              b: { <<: *base, base_url: "http://127.0.0.1:2/v1" }
            routes: [ { name: d, match: { models: ["*"] }, targets: [ { provider: b, model: m } ] } ]
            """
        let c = try StageHarness.config(ok)
        #expect(c.providers[1].baseURL == "http://127.0.0.1:2/v1")
        #expect(c.providers[1].timeouts.idle == .seconds(3))
    }

    @Test func embeddedDefaultLoadsAndMatchesTheSeedTable() throws {
        let c = try ConfigLoader(environment: [:]).load(bytes: Array(DefaultConfig.yaml.utf8))
        #expect(c.auth == .open)
        #expect(c.providers.first?.missingKeyVariable == "OPENROUTER_API_KEY")
        let matcher = RouteMatcher(routes: c.routes)
        func target(_ model: String) -> String? { matcher.route(model: model, thinking: false, estimatedInputTokens: 10)?.targets.first?.model }
        #expect(target("claude-sonnet-4-5-20250929") == "openai/gpt-oss-120b:free")
        #expect(target("claude-haiku-4-5-20251001") == "openai/gpt-oss-120b:free")
        #expect(target("claude-3-5-sonnet-latest") == "openai/gpt-oss-120b:free")
        #expect(target("claude-opus-4-1") == "openai/gpt-oss-20b:free")
        #expect(target("claude-haiku-3") == "moonshotai/kimi-k2:free")
        #expect(target("gpt-4o") == "openai/gpt-oss-120b:free")
        #expect(c.routes.allSatisfy { $0.targets.count == 2 })
    }

    @Test func shippedReferenceConfigHasTheDefaultRoutes() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let shipped = try ConfigLoader(environment: [:]).load(path: root.appendingPathComponent("config/switchyard.yaml").path)
        let embedded = try ConfigLoader(environment: [:]).load(bytes: Array(DefaultConfig.yaml.utf8))
        #expect(shipped.routes.map(\.name) == embedded.routes.map(\.name))
        #expect(shipped.routes.map { $0.targets.map(\.label) } == embedded.routes.map { $0.targets.map(\.label) })
        #expect(shipped.routes.map { $0.models.map(\.pattern) } == embedded.routes.map { $0.models.map(\.pattern) })
    }
}
