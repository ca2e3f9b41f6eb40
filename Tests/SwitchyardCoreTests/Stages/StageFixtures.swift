import SwitchyardCore
import SwitchyardTesting
import SwitchyardWire

/// Shared configs and bodies for stage tests.
enum StageFixtures {
    static let aliceToken = "sy-alice-token-1"
    static let bobToken = "sy-bob-token-2"

    static let team = """
        providers:
          up: { base_url: "http://127.0.0.1:9/v1", api_key: k }
        routes:
          - name: cheap
            match: { models: ["claude-haiku-*"] }
            targets: [ { provider: up, model: small } ]
            limits: { rpm: 5 }
          - name: main
            match: { models: ["*"] }
            targets: [ { provider: up, model: a }, { provider: up, model: b } ]
        auth: { mode: tokens }
        users:
          - { name: alice, token_sha256: \(TokenFactory.hash(aliceToken)), routes: [cheap], limits: { rpm: 3, tpm: 10000, concurrent: 1 } }
          - { name: bob, token_sha256: \(TokenFactory.hash(bobToken)) }
        limits:
          per_user: { rpm: 2 }
        fallback: { cooldown: 10s, retries_per_target: 0 }
        """

    static func body(model: String = "claude-sonnet-4-5", stream: Bool = false, text: String = "hi") -> String {
        #"{"model":"\#(model)","max_tokens":100,"stream":\#(stream),"messages":[{"role":"user","content":"\#(text)"}]}"#
    }

    static func config() throws -> GatewayConfig { try StageHarness.config(team) }
}
