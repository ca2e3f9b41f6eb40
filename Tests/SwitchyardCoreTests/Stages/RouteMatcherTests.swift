import SwitchyardCore
import SwitchyardTesting
import Testing

/// The first route in file order whose globs and conditions (`thinking`, `min_input_tokens`)
/// match wins.
@Suite struct RouteMatcherTests {
    static let yaml = """
        providers:
          up: { base_url: "http://127.0.0.1:9/v1", api_key: k }
        routes:
          - name: thinking
            match: { models: ["claude-opus-*"], thinking: true }
            targets: [ { provider: up, model: t } ]
          - name: long
            match: { models: ["claude-*"], min_input_tokens: 1000 }
            targets: [ { provider: up, model: l } ]
          - name: plain
            match: { models: ["claude-opus-*", "claude-sonnet-*"], thinking: false }
            targets: [ { provider: up, model: p } ]
          - name: haiku
            match: { models: ["claude-haiku-*", "haiku"] }
            targets: [ { provider: up, model: h } ]
          - name: shadowed
            match: { models: ["claude-haiku-4-5"] }
            targets: [ { provider: up, model: never } ]
        """

    let matcher: RouteMatcher

    init() throws {
        matcher = RouteMatcher(routes: try StageHarness.config(Self.yaml).routes)
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var model: String
        var thinking: Bool
        var tokens: Int
        var route: String?
        var testDescription: String { "\(model) thinking=\(thinking) tokens=\(tokens) → \(route ?? "none")" }
    }

    static let cases: [Case] = [
        Case(model: "claude-opus-4-1", thinking: true, tokens: 10, route: "thinking"),
        // thinking is checked before the size: the first route in file order wins.
        Case(model: "claude-opus-4-1", thinking: true, tokens: 5000, route: "thinking"),
        Case(model: "claude-opus-4-1", thinking: false, tokens: 5000, route: "long"),
        Case(model: "claude-opus-4-1", thinking: false, tokens: 999, route: "plain"),
        Case(model: "claude-opus-4-1", thinking: false, tokens: 1000, route: "long"),  // "at least"
        Case(model: "claude-sonnet-4-5", thinking: true, tokens: 10, route: nil),  // plain wants thinking off
        Case(model: "claude-sonnet-4-5", thinking: true, tokens: 1000, route: "long"),
        Case(model: "claude-haiku-4-5", thinking: false, tokens: 10, route: "haiku"),  // never "shadowed"
        Case(model: "claude-haiku-4-5", thinking: true, tokens: 10, route: "haiku"),  // no thinking condition: any
        Case(model: "HAIKU", thinking: false, tokens: 1, route: "haiku"),
        Case(model: "gpt-4o", thinking: false, tokens: 5000, route: nil),
        Case(model: "", thinking: false, tokens: 0, route: nil),
    ]

    @Test(arguments: cases) func theFirstMatchingRouteWins(_ c: Case) {
        #expect(matcher.route(model: c.model, thinking: c.thinking, estimatedInputTokens: c.tokens)?.name == c.route)
    }

    @Test func routesKeepFileOrderAndConditions() {
        #expect(matcher.routes.map(\.name) == ["thinking", "long", "plain", "haiku", "shadowed"])
        #expect(matcher.routes.map(\.thinking) == [true, nil, false, nil, nil])
        #expect(matcher.routes.map(\.minInputTokens) == [0, 1000, 0, 0, 0])
    }

    @Test func thinkingAnyIsNoCondition() throws {
        let yaml = Self.yaml.replacingOccurrences(of: "thinking: true", with: "thinking: any")
        let matcher = RouteMatcher(routes: try StageHarness.config(yaml).routes)
        #expect(matcher.route(model: "claude-opus-4-1", thinking: false, estimatedInputTokens: 1)?.name == "thinking")
    }
}
