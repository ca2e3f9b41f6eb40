import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle

/// Assembles and runs the gateway: loads the config, compiles the first snapshot, starts the HTTP
/// server with the reload service and the upstream-client service in one ServiceGroup, and
/// handles SIGTERM/SIGINT with a graceful drain bounded by `server.shutdown_grace`.
public struct GatewayServer {
    public struct Options: Sendable {
        public var configPath: String?
        public var listen: String?
        /// Written with the bound port once the server listens (tests use port 0).
        public var portFile: String?
        public init(configPath: String? = nil, listen: String? = nil, portFile: String? = nil) {
            self.configPath = configPath
            self.listen = listen
            self.portFile = portFile
        }
    }

    /// Picks the config: `--config`, else `./config/switchyard.yaml`, else the embedded default.
    public static func resolveSource(_ path: String?) -> ConfigSource {
        if let path { return .file(path) }
        if FileManager.default.fileExists(atPath: "config/switchyard.yaml") { return .file("config/switchyard.yaml") }
        return .embeddedDefault
    }

    public static func loadConfig(_ source: ConfigSource, loader: ConfigLoader) throws(ConfigError) -> GatewayConfig {
        switch source {
        case .file(let path): return try loader.load(path: path)
        case .embeddedDefault: return try loader.load(bytes: Array(DefaultConfig.yaml.utf8))
        }
    }

    public static func run(_ options: Options) async throws {
        let loader = ConfigLoader()
        let source = resolveSource(options.configPath)
        // A constant from here on: the server's callbacks read it concurrently.
        let config = try withListenOverride(loadConfig(source, loader: loader), options.listen)
        let logger = LogSetup.makeLogger(level: config.logging.level)
        switch source {
        case .file(let path): logger.info("config loaded", metadata: ["path": .string(path), "config_hash": .string(String(config.contentHash.prefix(12)))])
        case .embeddedDefault: logger.info("no config file: using the embedded default (switchyard check --print-default shows it)")
        }
        warnAboutMissingKeys(config, logger: logger)
        for warning in ConfigWarnings.all(config) { logger.warning("\(warning)") }
        if config.auth == .open && !["127.0.0.1", "localhost", "::1"].contains(config.server.host) && !config.server.host.hasPrefix("127.") {
            logger.warning(
                "auth.mode is open on a non-loopback address: anyone who can reach \(config.server.host):\(config.server.port) can use your upstream keys")
        }
        let accessLog = try AccessLogSink(destination: config.logging.accessLog)
        let instance = config.server.instance.isEmpty ? "\(ProcessInfo.processInfo.hostName):\(config.server.port)" : config.server.instance
        let metrics = Metrics()
        let accounting = Accounting(settings: config.state, instance: instance, metrics: metrics, logger: logger)
        await startLedger(accounting, config: config, logger: logger)
        let cooldownTable = CooldownTable()
        var sharedLimits: SharedLimits? = nil
        if case .postgres(let url) = config.state.backend {
            sharedLimits = try SharedLimits(
                url: url, pool: config.state.pool, instance: instance, cooldowns: cooldownTable, metrics: metrics,
                logger: logger)
        }
        let state = GatewayState(
            accounting: accounting, metrics: metrics, cooldowns: cooldownTable, sharedLimits: sharedLimits, whenSharedUnavailable: config.state.unavailable)
        let holder = SnapshotHolder(GatewaySnapshot(config: config, generation: 1, state: state, accessLog: accessLog))
        metrics.generation(1)
        let cooldowns = state.cooldowns
        metrics.setCooldownProbe { cooldowns.coolingCount(now: MonotonicClock.nanos()) }
        let notifier = SystemdNotifier()
        let reloader = ConfigReloader(source: source, loader: loader, holder: holder, state: state, accessLog: accessLog, notifier: notifier, logger: logger)
        let portFile = options.portFile
        let server = config.server
        let admission = AdmissionGate(limit: server.maxConnections, connections: state.connections, metrics: metrics)
        let app = Application(
            responder: GatewayResponder(holder: holder),
            server: GatewayChannel.builder(holder: holder, admission: admission, connections: state.connections, logger: logger),
            configuration: .init(address: .hostname(server.host, port: server.port), serverName: nil),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? config.server.port
                if let portFile { try? String(port).write(toFile: portFile, atomically: true, encoding: .utf8) }
                logger.info("listening", metadata: ["address": .string("\(config.server.host):\(port)")])
                notifier.notify("READY=1\nSTATUS=serving on \(config.server.host):\(port)")
            },
            logger: logger)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: ClientShutdownService(clients: state.clients)),
            .init(service: ReloadService(reloader: reloader)),
        ]
        if let ledger = accounting.ledger {
            // Listed before the servers, so it stops after them: the last records are written.
            services.append(.init(service: LedgerService(ledger: ledger, store: accounting.store, settings: config.state, logger: logger)))
        }
        if let admin = server.adminListen {
            services.append(
                .init(
                    service: Application(
                        responder: AdminResponder(holder: holder, loopback: GatewayResponder.isLoopback(admin.host)),
                        configuration: .init(address: .hostname(admin.host, port: admin.port), serverName: nil), logger: logger)))
        }
        if let sharedLimits {
            // Before the server, so it settles the last replies after the server drained.
            services.append(.init(service: sharedLimits))
        }
        // Before the server, so it keeps ticking while the server drains.
        services.append(.init(service: StreamTicker(streams: state.streams)))
        services.append(.init(service: app))
        // Listed last, so it hears the shutdown signal first: it sets the deadline after which
        // streams still open end with an error (`shutdown_grace`), then lets the server drain.
        services.append(.init(service: DrainService(grace: server.shutdownGrace, streams: state.streams, notifier: notifier, logger: logger)))
        var groupConfig = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        groupConfig.maximumGracefulShutdownDuration = server.shutdownGrace + .seconds(5)
        try await ServiceGroup(configuration: groupConfig).run()
    }

    /// The config with `--listen` applied, when given.
    static func withListenOverride(_ config: GatewayConfig, _ listen: String?) throws -> GatewayConfig {
        guard let listen else { return config }
        guard let hp = ValueParsers.hostPort(listen) else {
            throw ConfigError(problems: [ConfigProblem(path: "--listen", line: nil, message: "expected host:port")])
        }
        var copy = config
        (copy.server.host, copy.server.port) = hp
        return copy
    }

    /// Opens the ledger's store (creating and migrating it). A store that cannot be opened is
    /// logged; the gateway serves anyway and the writer keeps retrying.
    static func startLedger(_ accounting: Accounting, config: GatewayConfig, logger: Logger) async {
        let budgeted =
            config.users.contains { $0.limits?.budget != nil } || config.defaultUserLimits?.budget != nil
            || config.routes.contains { $0.limits?.budget != nil }
        switch config.state.backend {
        case .off:
            if budgeted { logger.warning("state.url is off: budgets count spend from zero at each start") }
        case .sqlite(let path):
            await open(accounting, name: "sqlite:\(path)", logger: logger)
        case .postgres(let url):
            await open(accounting, name: Self.withoutPassword(url), logger: logger)
        }
    }

    static func open(_ accounting: Accounting, name: String, logger: Logger) async {
        do {
            try await accounting.store?.migrate()
            logger.info("usage ledger ready", metadata: ["store": .string(name)])
        } catch {
            accounting.ledger?.storeFailed("cannot open the store \(name)", error)
        }
    }

    /// A store URL for logs: the password replaced by `***`.
    static func withoutPassword(_ url: String) -> String {
        guard var c = URLComponents(string: url), c.password != nil else { return url }
        c.password = "***"
        return c.string ?? "postgres://***"
    }

    static func warnAboutMissingKeys(_ config: GatewayConfig, logger: Logger) {
        var warned = Set<String>()
        for route in config.routes {
            for target in route.targets {
                guard let provider = config.provider(named: target.provider), target.apiKey == nil, provider.apiKey == nil else { continue }
                let variable = target.missingKeyVariable ?? provider.missingKeyVariable
                let what = variable.map { "environment variable \($0) is not set" } ?? "no api_key is configured"
                if warned.insert(variable ?? provider.name).inserted {
                    logger.warning(
                        "upstream key missing for provider \(provider.name): \(what); requests routed there get an error naming it until the gateway is restarted with it set"
                    )
                }
            }
        }
    }
}

/// Shuts the shared upstream clients down after the HTTP server stopped.
struct ClientShutdownService: Service {
    let clients: HTTPClients
    func run() async throws {
        try? await gracefulShutdown()
        await clients.shutdown()
    }
}
