import SwitchyardCore
import SwitchyardTesting
import Testing

/// Every duration, size and count key against hostile values: each is refused with a problem at
/// exactly that key's path, and random text either loads within the key's range or is refused.
@Suite struct ConfigValueFuzzTests {
    enum Kind { case duration, size, count }

    /// (key path, YAML template with `VALUE`, kind)
    static let keys: [(path: String, kind: Kind)] = [
        ("server.read_timeout", .duration), ("server.shutdown_grace", .duration), ("providers.up.timeouts.connect", .duration),
        ("providers.up.timeouts.first_byte", .duration), ("providers.up.timeouts.idle", .duration), ("fallback.cooldown", .duration),
        ("server.max_body_bytes", .size), ("server.max_header_bytes", .size), ("providers.up.max_response_bytes", .size),
        ("server.max_connections", .count), ("providers.up.max_connections", .count), ("fallback.retries_per_target", .count),
        ("limits.per_user.rpm", .count), ("limits.per_user.tpm", .count), ("limits.per_user.concurrent", .count),
        ("routes[0].targets[0].max_tokens", .count), ("routes[0].match.min_input_tokens", .count),
    ]

    static func yaml(_ path: String, _ value: String) -> String {
        var server = ""
        var timeouts = ""
        var provider = ""
        var fallback = ""
        var limits = ""
        var target = ""
        var match = ""
        let v = "\"\(value)\""
        switch path {
        case "server.read_timeout": server = "read_timeout: \(v)"
        case "server.shutdown_grace": server = "shutdown_grace: \(v)"
        case "server.max_body_bytes": server = "max_body_bytes: \(v)"
        case "server.max_header_bytes": server = "max_header_bytes: \(v)"
        case "server.max_connections": server = "max_connections: \(v)"
        case "providers.up.timeouts.connect": timeouts = "connect: \(v)"
        case "providers.up.timeouts.first_byte": timeouts = "first_byte: \(v)"
        case "providers.up.timeouts.idle": timeouts = "idle: \(v)"
        case "providers.up.max_response_bytes": provider = ", max_response_bytes: \(v)"
        case "providers.up.max_connections": provider = ", max_connections: \(v)"
        case "fallback.cooldown": fallback = "cooldown: \(v)"
        case "fallback.retries_per_target": fallback = "retries_per_target: \(v)"
        case "limits.per_user.rpm": limits = "rpm: \(v)"
        case "limits.per_user.tpm": limits = "tpm: \(v)"
        case "limits.per_user.concurrent": limits = "concurrent: \(v)"
        case "routes[0].targets[0].max_tokens": target = ", max_tokens: \(v)"
        case "routes[0].match.min_input_tokens": match = ", min_input_tokens: \(v)"
        default: fatalError(path)
        }
        return """
            server: { \(server) }
            providers:
              up: { base_url: "http://127.0.0.1:9/v1", timeouts: { \(timeouts) }\(provider) }
            routes:
              - { name: main, match: { models: ["*"]\(match) }, targets: [ { provider: up, model: a\(target) } ] }
            fallback: { \(fallback) }
            limits: { per_user: { \(limits.isEmpty ? "rpm: 5" : limits) } }
            """
    }

    static let hostile: [Kind: [String]] = [
        .duration: [
            "1e300s", "10000000000s", "-1s", "nans", "infs", "1e3000ms", "99999999999999999999h", "1.5", "s", "", "0x10s", "-0.5ms",
            "9223372036854775807ms", "25h", "86401s", "1_0s",
        ],
        .size: ["1e300KiB", "-1", "99999999999999999999", "1e30", "nan", "inf", "2GiB", "0", "-0.5MiB", "1e3000", "KiB", "9223372036854775807"],
        .count: ["-1", "99999999999999999999", "1.5", "1e3", "nan", "9223372036854775807", "2000000000000000", "true", ""],
    ]

    @Test(arguments: keys) func hostileValuesAreProblemsAtTheirPath(_ key: (path: String, kind: Kind)) {
        for value in Self.hostile[key.kind]! {
            // "0" is in range for a few keys; everything else must be refused.
            do {
                let config = try StageHarness.config(Self.yaml(key.path, value))
                Issue.record("\(key.path): \(value) was accepted (\(config.server.readTimeout))")
            } catch let error as ConfigError {
                #expect(error.problems.contains { $0.path == key.path }, "\(key.path) = \(value): \(error)")
            } catch {
                Issue.record("unexpected error \(error)")
            }
        }
    }

    @Test func randomValuesLoadInRangeOrAreRefused() {
        var rng = SeededRandom(seed: 7)
        let alphabet = Array("0123456789.eE+-smhKMGiBnaf ")
        for _ in 0..<1500 {
            let key = Self.keys[Int(rng.next() % UInt64(Self.keys.count))]
            let length = 1 + Int(rng.next() % 12)
            let value = String((0..<length).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] })
            do {
                let c = try StageHarness.config(Self.yaml(key.path, value))
                // Accepted: the value must be inside the key's range.
                #expect(c.server.readTimeout >= .seconds(1) && c.server.readTimeout <= .seconds(3600))
                #expect(c.fallback.cooldown <= .seconds(86_400) && c.fallback.retriesPerTarget <= 10)
                #expect(c.server.maxBodyBytes <= 1 << 30 && c.server.maxHeaderBytes <= 1 << 20)
                #expect(c.providers[0].maxResponseBytes <= 1 << 30 && c.providers[0].timeouts.idle <= .seconds(3600))
                #expect(c.routes[0].minInputTokens <= 1_000_000_000)
            } catch let error as ConfigError {
                #expect(!error.problems.isEmpty)
            } catch {
                Issue.record("unexpected error \(error)")
            }
        }
    }
}
