import Logging
import ServiceLifecycle
import UnixSignals

/// Owns SIGHUP: re-reads the config file, validates and compiles it, and swaps the snapshot in
/// atomically. A bad file keeps the old snapshot serving and logs every problem; an unchanged
/// file is a no-op.
public struct ReloadService: Service {
    let reloader: ConfigReloader

    public init(reloader: ConfigReloader) {
        self.reloader = reloader
    }

    public func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        for await _ in signals.cancelOnGracefulShutdown() {
            reloader.reload()
        }
    }
}

/// The reload procedure, separate from the signal so tests and the service share it.
public final class ConfigReloader: Sendable {
    let source: ConfigSource
    let loader: ConfigLoader
    let holder: SnapshotHolder
    let state: GatewayState
    let accessLog: AccessLogSink
    let notifier: SystemdNotifier
    let logger: Logger

    public init(
        source: ConfigSource, loader: ConfigLoader, holder: SnapshotHolder, state: GatewayState,
        accessLog: AccessLogSink, notifier: SystemdNotifier, logger: Logger
    ) {
        self.source = source
        self.loader = loader
        self.holder = holder
        self.state = state
        self.accessLog = accessLog
        self.notifier = notifier
        self.logger = logger
    }

    public enum Result: Equatable {
        case unchanged
        case reloaded(Int)
        case failed
    }

    @discardableResult
    public func reload() -> Result {
        guard case .file(let path) = source else {
            logger.notice("reload requested, but the embedded default config has no file to re-read")
            return .unchanged
        }
        notifier.reloading()
        defer { notifier.notify("READY=1") }
        let current = holder.current
        let config: GatewayConfig
        do {
            config = try loader.load(path: path)
        } catch {
            for problem in error.problems {
                logger.error("config reload failed", metadata: ["problem": .string(problem.description), "generation": .stringConvertible(current.generation)])
            }
            state.metrics.reloads(success: false)
            return .failed
        }
        guard config.contentHash != current.config.contentHash else {
            logger.info("config unchanged, nothing to reload", metadata: ["generation": .stringConvertible(current.generation)])
            return .unchanged
        }
        if config.server != current.config.server {
            logger.warning("server settings changed; listen address and server limits apply after a restart")
        }
        if config.state != current.config.state {
            logger.warning("state settings changed; the ledger store and flush interval apply after a restart")
        }
        for warning in ConfigWarnings.all(config) { logger.warning("\(warning)") }
        let snapshot = GatewaySnapshot(config: config, generation: current.generation + 1, state: state, accessLog: accessLog)
        holder.swap(snapshot)
        state.cooldowns.retain(only: Set(config.routes.flatMap { $0.targets.map(\.label) }))
        state.metrics.reloads(success: true)
        state.metrics.generation(snapshot.generation)
        logger.info(
            "config reloaded",
            metadata: [
                "generation": .stringConvertible(snapshot.generation), "config_hash": .string(snapshot.configTag),
                "routes": .stringConvertible(config.routes.count), "users": .stringConvertible(config.users.count),
            ])
        return .reloaded(snapshot.generation)
    }
}

/// Where the config came from.
public enum ConfigSource: Sendable, Equatable {
    case file(String)
    case embeddedDefault
}
