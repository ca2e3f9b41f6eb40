import Foundation
import Logging
import SwitchyardCore
import SwitchyardTesting
import SwitchyardWire
import Testing

/// SIGHUP's procedure on a temporary config file: unchanged files are a no-op, changed ones swap
/// a new snapshot in, broken ones keep the old one serving; the reload counters say which.
@Suite final class ReloadTests {
    static let first = """
        providers:
          up: { base_url: "http://127.0.0.1:9/v1", api_key: k1 }
        routes:
          - name: main
            match: { models: ["*"] }
            targets: [ { provider: up, model: a } ]
        """

    static let second = """
        providers:
          up: { base_url: "http://127.0.0.1:9/v1", api_key: k1 }
        routes:
          - name: haiku
            match: { models: ["claude-haiku-*"] }
            targets: [ { provider: up, model: small } ]
          - name: main
            match: { models: ["*"] }
            targets: [ { provider: up, model: b } ]
        """

    let directory: URL
    let path: String
    let state = GatewayState()
    let holder: SnapshotHolder
    let reloader: ConfigReloader

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("sy-reload-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        path = directory.appendingPathComponent("switchyard.yaml").path
        try Self.first.write(toFile: path, atomically: true, encoding: .utf8)
        let loader = ConfigLoader(environment: [:])
        let accessLog = try AccessLogSink(destination: "off")
        holder = SnapshotHolder(GatewaySnapshot(config: try loader.load(path: path), generation: 1, state: state, accessLog: accessLog))
        reloader = ConfigReloader(
            source: .file(path), loader: loader, holder: holder, state: state, accessLog: accessLog,
            notifier: SystemdNotifier(environment: [:]), logger: Logger(label: "test"))
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    func write(_ text: String) throws {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// The sample lines of the Prometheus text for one metric name.
    func samples(_ name: String) -> [String] {
        String(decoding: state.metrics.render(), as: UTF8.self).split(separator: "\n").map(String.init).filter { $0.hasPrefix(name) }
    }

    @Test func anUnchangedFileIsANoOp() throws {
        let before = holder.current
        #expect(reloader.reload() == .unchanged)
        #expect(holder.current === before)
        #expect(
            samples("switchyard_config_reloads_total").sorted() == [
                #"switchyard_config_reloads_total{result="failure"} 0"#, #"switchyard_config_reloads_total{result="success"} 0"#,
            ])
    }

    @Test func aChangedFileSwapsInTheNextGeneration() throws {
        let before = holder.current
        try write(Self.second)
        #expect(reloader.reload() == .reloaded(2))
        let after = holder.current
        #expect(after !== before)
        #expect(after.generation == 2)
        #expect(after.config.routes.map(\.name) == ["haiku", "main"])
        #expect(after.config.contentHash != before.config.contentHash)
        #expect(after.router.route(model: "claude-haiku-4-5", thinking: false, estimatedInputTokens: 1)?.targets.first?.model == "small")
        #expect(after.state === state)
        // The old snapshot is untouched, for the requests still running on it.
        #expect(before.generation == 1)
        #expect(before.config.routes.map(\.name) == ["main"])
        #expect(samples(#"switchyard_config_reloads_total{result="success"}"#) == [#"switchyard_config_reloads_total{result="success"} 1"#])
        #expect(samples("switchyard_config_generation ") == ["switchyard_config_generation 2.0"])
        // Reloading the same file again changes nothing.
        #expect(reloader.reload() == .unchanged)
        #expect(holder.current === after)
    }

    @Test func aBrokenFileKeepsTheOldSnapshotServing() throws {
        let before = holder.current
        try write(Self.first.replacingOccurrences(of: "provider: up", with: "provider: nope"))
        #expect(reloader.reload() == .failed)
        #expect(holder.current === before)
        #expect(samples(#"switchyard_config_reloads_total{result="failure"}"#) == [#"switchyard_config_reloads_total{result="failure"} 1"#])
        #expect(samples(#"switchyard_config_reloads_total{result="success"}"#) == [#"switchyard_config_reloads_total{result="success"} 0"#])

        try write("routes: [ unclosed\n")
        #expect(reloader.reload() == .failed)
        #expect(samples(#"switchyard_config_reloads_total{result="failure"}"#) == [#"switchyard_config_reloads_total{result="failure"} 2"#])

        // Fixed, it reloads as the next generation of what served meanwhile.
        try write(Self.second)
        #expect(reloader.reload() == .reloaded(2))
        #expect(holder.current.generation == 2)
    }

    @Test func aMissingFileFailsAndKeepsServing() throws {
        let before = holder.current
        try FileManager.default.removeItem(atPath: path)
        #expect(reloader.reload() == .failed)
        #expect(holder.current === before)
    }

    @Test func theEmbeddedDefaultHasNothingToReRead() throws {
        let embedded = ConfigReloader(
            source: .embeddedDefault, loader: ConfigLoader(environment: [:]), holder: holder, state: state,
            accessLog: try AccessLogSink(destination: "off"), notifier: SystemdNotifier(environment: [:]), logger: Logger(label: "test"))
        try write(Self.second)
        #expect(embedded.reload() == .unchanged)
        #expect(holder.current.generation == 1)
    }

    @Test func cooldownsOfTargetsThatLeftTheConfigAreForgotten() throws {
        let now = MonotonicClock.nanos()
        state.cooldowns.recordFailure("up:a", cooldownNanos: 60_000_000_000, now: now)
        state.cooldowns.recordFailure("up:b", cooldownNanos: 60_000_000_000, now: now)
        try write(Self.second)  // up:a is gone, up:b is new... and was cooling
        #expect(reloader.reload() == .reloaded(2))
        #expect(!state.cooldowns.isCooling("up:a", now: now + 1))
        #expect(state.cooldowns.isCooling("up:b", now: now + 1))
    }
}
