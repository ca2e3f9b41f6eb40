import Foundation
import SwitchyardWire
import Yams

/// Loads a config: `bytes → YAML tree (Yams) → validated sections (unknown keys rejected, every
/// problem collected with its path and line) → resolved GatewayConfig (defaults, secrets,
/// durations)`. `serve`, `check` and every reload go through `load`, so they agree.
public struct ConfigLoader: Sendable {
    public var environment: [String: String]

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    /// Loads the file at `path`.
    public func load(path: String) throws(ConfigError) -> GatewayConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(problems: [ConfigProblem(path: "", line: nil, message: "cannot read config file \(path)")])
        }
        let directory = (path as NSString).deletingLastPathComponent
        return try load(bytes: [UInt8](data), baseDirectory: directory.isEmpty ? "." : directory)
    }

    /// Loads config text; relative `{file:}` paths resolve against `baseDirectory`.
    public func load(bytes: [UInt8], baseDirectory: String = ".") throws(ConfigError) -> GatewayConfig {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ConfigError(problems: [ConfigProblem(path: "", line: nil, message: "the config is not valid UTF-8")])
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw ConfigError(problems: [Self.yamlProblem(error)])
        }
        let reader = ConfigReader(environment: environment, baseDirectory: baseDirectory)
        let config = build(root ?? Node.mapping(Node.Mapping([])), reader: reader, hash: SHA256Digest.hexString(SHA256Digest.hash(bytes)))
        if !reader.problems.isEmpty { throw ConfigError(problems: reader.problems) }
        guard let config else {
            throw ConfigError(problems: [ConfigProblem(path: "", line: nil, message: "the config could not be loaded")])
        }
        return config
    }

    static func yamlProblem(_ error: Error) -> ConfigProblem {
        if let y = error as? YamlError {
            switch y {
            case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
                return ConfigProblem(path: "", line: mark.line, message: "YAML syntax error: \(problem)")
            case .duplicatedKeysInMapping(let duplicates, _):
                return ConfigProblem(path: "", line: nil, message: "duplicate keys: \(duplicates.joined(separator: ", "))")
            default: break
            }
        }
        return ConfigProblem(path: "", line: nil, message: "YAML error: \(error)")
    }

    func build(_ root: Node, reader r: ConfigReader, hash: String) -> GatewayConfig? {
        let top = r.mapping(root, "", allowed: ConfigKeys.top) ?? []
        let server = serverSettings(r.value(top, "server"), r)
        let providers = self.providers(r.value(top, "providers"), r)
        let providerNames = Set(providers.map(\.name))
        let routes = self.routes(r.value(top, "routes"), r, providers: providerNames)
        let fallback = self.fallback(r.value(top, "fallback"), r)
        let users = self.users(r.value(top, "users"), r, routes: Set(routes.map(\.name)))
        let pipeline = self.pipeline(r.value(top, "pipeline"), r)
        let authPairs = r.mapping(r.value(top, "auth"), "auth", allowed: ConfigKeys.auth)
        var auth: AuthMode = users.isEmpty ? .open : .tokens
        if let modeNode = r.value(authPairs, "mode"), let mode = r.string(modeNode, "auth.mode") {
            if let m = AuthMode(rawValue: mode) { auth = m } else { r.problem("auth.mode", modeNode, "expected tokens or open, got \"\(mode)\"") }
        }
        if auth == .tokens && users.isEmpty && r.problems.isEmpty {
            r.problem("auth.mode", r.value(authPairs, "mode"), "tokens mode needs at least one entry in users")
        }
        if auth == .tokens && !pipeline.contains(.auth) {
            r.problem("pipeline", r.value(top, "pipeline"), "auth.mode is tokens but the auth stage is not in the pipeline: every request would be let in")
        }
        let limitPairs = r.mapping(r.value(top, "limits"), "limits", allowed: ConfigKeys.limitDefaults)
        let perUser = limits(r.value(limitPairs, "per_user"), "limits.per_user", r)
        let translationPairs = r.mapping(r.value(top, "translation"), "translation", allowed: ConfigKeys.translation)
        let strip = r.bool(r.value(translationPairs, "strip_billing_header"), "translation.strip_billing_header") ?? true
        let reasoningContent = r.bool(r.value(translationPairs, "reasoning_content"), "translation.reasoning_content") ?? false
        let logging = self.logging(r.value(top, "logging"), r)
        let state = self.state(r.value(top, "state"), r, baseDirectory: r.baseDirectory)
        if routes.isEmpty && r.value(top, "routes") != nil && r.problems.isEmpty {
            r.problem("routes", r.value(top, "routes"), "at least one route is required")
        }
        if r.value(top, "routes") == nil { r.problem("routes", nil, "field required: at least one route") }
        if r.value(top, "providers") == nil { r.problem("providers", nil, "field required: at least one provider") }
        guard let server else { return nil }
        var config = GatewayConfig(
            server: server, providers: providers, routes: routes, fallback: fallback, auth: auth, users: users,
            defaultUserLimits: perUser, stripBillingHeader: strip, pipeline: pipeline, logging: logging, state: state, contentHash: hash)
        config.reasoningContent = reasoningContent
        return config
    }

    func serverSettings(_ node: Node?, _ r: ConfigReader) -> ServerSettings? {
        let p = r.mapping(node, "server", allowed: ConfigKeys.server)
        let defaultPort = environment["PROXY_PORT"].flatMap(Int.init) ?? 8000
        var host = "127.0.0.1"
        var port = defaultPort
        if let listenNode = r.value(p, "listen"), let listen = r.string(listenNode, "server.listen") {
            if let hp = ValueParsers.hostPort(listen) {
                (host, port) = hp
            } else {
                r.problem("server.listen", listenNode, "expected host:port, got \"\(listen)\"")
            }
        }
        var metrics: (host: String, port: Int)? = nil
        // admin_listen is the newer name of metrics_listen (the listener also serves the usage page).
        for key in ["metrics_listen", "admin_listen"] {
            if let mNode = r.value(p, key), let m = r.string(mNode, "server.\(key)") {
                if let hp = ValueParsers.hostPort(m) { metrics = hp } else { r.problem("server.\(key)", mNode, "expected host:port, got \"\(m)\"") }
            }
        }
        return ServerSettings(
            host: host, port: port,
            maxBodyBytes: r.size(r.value(p, "max_body_bytes"), "server.max_body_bytes", in: ConfigRanges.maxBodyBytes) ?? 32 << 20,
            maxHeaderBytes: r.size(r.value(p, "max_header_bytes"), "server.max_header_bytes", in: ConfigRanges.maxHeaderBytes) ?? 64 << 10,
            readTimeout: r.duration(r.value(p, "read_timeout"), "server.read_timeout", in: ConfigRanges.readTimeout) ?? .seconds(30),
            maxConnections: r.int(r.value(p, "max_connections"), "server.max_connections", in: ConfigRanges.serverConnections) ?? 4096,
            metricsListen: metrics,
            shutdownGrace: r.duration(r.value(p, "shutdown_grace"), "server.shutdown_grace", in: ConfigRanges.shutdownGrace) ?? .seconds(30),
            modelsShowTargets: r.bool(r.value(p, "models_show_targets"), "server.models_show_targets") ?? false,
            instance: r.string(r.value(p, "instance"), "server.instance") ?? "")
    }

    func limits(_ node: Node?, _ path: String, _ r: ConfigReader) -> Limits? {
        guard let node else { return nil }
        let p = r.mapping(node, path, allowed: ConfigKeys.limits)
        let l = Limits(
            rpm: r.int(r.value(p, "rpm"), "\(path).rpm", in: ConfigRanges.rpm),
            tpm: r.int(r.value(p, "tpm"), "\(path).tpm", in: ConfigRanges.tpm),
            concurrent: r.int(r.value(p, "concurrent"), "\(path).concurrent", in: ConfigRanges.concurrent),
            budget: budget(r.value(p, "budget"), "\(path).budget", r))
        return l.isEmpty ? nil : l
    }

    func fallback(_ node: Node?, _ r: ConfigReader) -> FallbackPolicy {
        let all: Set<UpstreamFailure.Kind> = [.rateLimited, .serverError, .timeout, .connectError, .contextLength]
        let p = r.mapping(node, "fallback", allowed: ConfigKeys.fallback)
        var on = all
        if let onNode = r.value(p, "on"), let names = r.strings(onNode, "fallback.on") {
            on = []
            for (i, n) in names.enumerated() {
                if let k = UpstreamFailure.Kind(rawValue: n), all.contains(k) {
                    on.insert(k)
                } else {
                    r.problem(
                        "fallback.on[\(i)]", onNode,
                        "unknown failure kind \"\(n)\" (expected rate_limited, server_error, timeout, connect_error or context_length)")
                }
            }
        }
        return FallbackPolicy(
            on: on,
            retriesPerTarget: r.int(r.value(p, "retries_per_target"), "fallback.retries_per_target", in: ConfigRanges.retriesPerTarget) ?? 0,
            cooldown: r.duration(r.value(p, "cooldown"), "fallback.cooldown", in: ConfigRanges.cooldown) ?? .seconds(30))
    }

    func pipeline(_ node: Node?, _ r: ConfigReader) -> [StageName] {
        guard let node, let names = r.strings(node, "pipeline") else { return StageName.allCases }
        var stages: [StageName] = []
        for (i, n) in names.enumerated() {
            guard let s = StageName(rawValue: n) else {
                r.problem("pipeline[\(i)]", node, "unknown stage \"\(n)\" (expected logger, auth, limiter, mapper, translator, transport)")
                continue
            }
            if stages.contains(s) { r.problem("pipeline[\(i)]", node, "stage \"\(n)\" listed twice") }
            stages.append(s)
        }
        if stages.last != .transport { r.problem("pipeline", node, "transport must be the last stage") }
        for required in [StageName.mapper, .translator] where !stages.contains(required) {
            r.problem("pipeline", node, "the \(required.rawValue) stage is required")
        }
        // Stages depend on what earlier ones set: the limiter on auth's user, the translator on
        // the mapper's target, the transport on the translator's request.
        let dependencies: [(StageName, StageName)] = [(.auth, .limiter), (.auth, .mapper), (.mapper, .translator), (.translator, .transport)]
        for (before, after) in dependencies {
            if let a = stages.firstIndex(of: before), let b = stages.firstIndex(of: after), a > b {
                r.problem("pipeline", node, "\(before.rawValue) must come before \(after.rawValue)")
            }
        }
        return stages
    }

    func logging(_ node: Node?, _ r: ConfigReader) -> LoggingSettings {
        let p = r.mapping(node, "logging", allowed: ConfigKeys.logging)
        let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
        var level = "info"
        if let n = r.value(p, "level"), let l = r.string(n, "logging.level") {
            if levels.contains(l) { level = l } else { r.problem("logging.level", n, "expected one of \(levels.joined(separator: ", "))") }
        }
        var format = LoggingSettings.Format.json
        if let n = r.value(p, "format"), let f = r.string(n, "logging.format") {
            if let v = LoggingSettings.Format(rawValue: f) { format = v } else { r.problem("logging.format", n, "expected json or text") }
        }
        let envVerbose = ["1", "true", "yes"].contains(environment["PROXY_VERBOSE"]?.lowercased() ?? "")
        return LoggingSettings(
            level: level, format: format,
            accessLog: accessLog(r.value(p, "access_log"), r),
            verbose: (r.bool(r.value(p, "verbose"), "logging.verbose") ?? false) || envVerbose)
    }

    /// `stdout` (default), `stderr`, `off` or a file path. A YAML `false` or null means off; a
    /// YAML `true` is not a destination.
    func accessLog(_ node: Node?, _ r: ConfigReader) -> String {
        guard let node else { return "stdout" }
        switch ConfigReader.nonTextKind(node) {
        case "null": return "off"
        case "boolean":
            if r.bool(node, "logging.access_log") == false { return "off" }
            r.problem("logging.access_log", node, "expected stdout, stderr, off or a file path, got true")
            return "stdout"
        default:
            return r.string(node, "logging.access_log") ?? "stdout"
        }
    }
}
