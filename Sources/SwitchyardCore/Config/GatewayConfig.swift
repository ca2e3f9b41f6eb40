import SwitchyardWire

/// A validated, resolved, immutable configuration (config.md). Built by `ConfigLoader`; every
/// default is applied and every secret resolved, so nothing re-reads the file per request.
public struct GatewayConfig: Sendable {
    public var server: ServerSettings
    /// In file order.
    public var providers: [Provider]
    public var routes: [Route]
    public var fallback: FallbackPolicy
    public var auth: AuthMode
    public var users: [User]
    public var defaultUserLimits: Limits?
    public var stripBillingHeader: Bool
    /// Chat Completions clients of Anthropic targets get the thinking as `reasoning_content`.
    public var reasoningContent = false
    public var pipeline: [StageName]
    public var logging: LoggingSettings
    /// `state:` — the usage ledger's store.
    public var state: StateSettings = .default
    /// Hex SHA-256 of the file's bytes (first 12 characters shown in /health and headers).
    public var contentHash: String

    public func provider(named name: String) -> Provider? { providers.first { $0.name == name } }

    /// Every secret value the gateway holds for upstreams: provider and target keys and every
    /// provider header value (they often carry keys). Blanked out of everything relayed to a
    /// client or written to a log.
    public var upstreamSecrets: [String] {
        var values = providers.compactMap { $0.apiKey?.exposedValue }
        values += routes.flatMap { $0.targets.compactMap { $0.apiKey?.exposedValue } }
        values += providers.flatMap { $0.headers.map(\.1) }
        var seen = Set<String>()
        return values.filter { $0.utf8.count >= SecretScrubber.minimumLength && seen.insert($0).inserted }
    }
}

/// `server:`
public struct ServerSettings: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var maxBodyBytes: Int
    public var maxHeaderBytes: Int
    public var readTimeout: Duration
    public var maxConnections: Int
    public var metricsListen: (host: String, port: Int)?
    public var shutdownGrace: Duration
    /// `GET /v1/models` display names show the route's first upstream (off by default: the
    /// upstream is the operator's business). Applies on reload, so it is not part of `==`.
    public var modelsShowTargets = false
    /// The operator's listener for `/metrics` and the usage page (`admin_listen`, or its older
    /// name `metrics_listen`).
    public var adminListen: (host: String, port: Int)? { metricsListen }
    /// This replica's name in the ledger and metrics (default `hostname:port`).
    public var instance: String = ""

    public init(
        host: String, port: Int, maxBodyBytes: Int, maxHeaderBytes: Int, readTimeout: Duration, maxConnections: Int,
        metricsListen: (host: String, port: Int)?, shutdownGrace: Duration, modelsShowTargets: Bool = false, instance: String = ""
    ) {
        self.host = host
        self.port = port
        self.maxBodyBytes = maxBodyBytes
        self.maxHeaderBytes = maxHeaderBytes
        self.readTimeout = readTimeout
        self.maxConnections = maxConnections
        self.metricsListen = metricsListen
        self.shutdownGrace = shutdownGrace
        self.modelsShowTargets = modelsShowTargets
        self.instance = instance
    }

    /// Equal when no listener-level setting differs (those need a restart to change).
    public static func == (a: ServerSettings, b: ServerSettings) -> Bool {
        a.host == b.host && a.port == b.port && a.maxBodyBytes == b.maxBodyBytes && a.maxHeaderBytes == b.maxHeaderBytes
            && a.readTimeout == b.readTimeout && a.maxConnections == b.maxConnections
            && a.metricsListen?.host == b.metricsListen?.host && a.metricsListen?.port == b.metricsListen?.port
            && a.shutdownGrace == b.shutdownGrace
    }
}

/// `providers.<name>:`
public struct Provider: Sendable {
    public enum Kind: String, Sendable { case openai, anthropic }
    public var name: String
    public var kind: Kind
    public var dialect: Dialect
    /// Without a trailing slash.
    public var baseURL: String
    /// Nil when no key is configured or its variable is unset (see `missingKeyVariable`).
    public var apiKey: Secret?
    /// The environment variable named by `api_key` that was not set, for a clear error.
    public var missingKeyVariable: String?
    public var headers: [(String, String)]
    public var timeouts: Timeouts
    public var maxConnections: Int
    public var maxResponseBytes: Int
    /// `cost:` — upstream-reported cost first, or the price table only.
    public var cost: CostSource = .upstream
    /// `prices:` — by upstream model glob.
    public var prices = PriceTable()

    /// The upstream URL for a call.
    public var endpointURL: String {
        kind == .openai ? baseURL + "/chat/completions" : baseURL + "/v1/messages"
    }
}

/// Upstream timeouts.
public struct Timeouts: Sendable, Hashable {
    public var connect: Duration
    public var firstByte: Duration
    public var idle: Duration
}

/// `routes[]:`
public struct Route: Sendable {
    public var name: String
    public var models: [ModelGlob]
    public var thinking: Bool?
    public var minInputTokens: Int
    public var targets: [Target]
    public var limits: Limits?
    /// `advertise:` — exactly the ids `GET /v1/models` lists for this route (nil: derived from
    /// the globs and the model catalogue).
    public var advertise: [String]? = nil
}

/// `routes[].targets[]:`
public struct Target: Sendable {
    public var provider: String
    public var model: String
    /// Overrides the provider's key.
    public var apiKey: Secret?
    public var missingKeyVariable: String?
    public var maxTokens: Int?

    /// `provider/model`, the target's identity in logs, metrics and cooldowns.
    public var label: String { "\(provider):\(model)" }
}

/// `rpm` / `tpm` / `concurrent`; nil means unlimited.
public struct Limits: Sendable, Equatable {
    public var rpm: Int?
    public var tpm: Int?
    public var concurrent: Int?
    /// A hard spending cap (accounting.md "Budgets").
    public var budget: Budget?
    public var isEmpty: Bool { rpm == nil && tpm == nil && concurrent == nil && budget == nil }

    public init(rpm: Int? = nil, tpm: Int? = nil, concurrent: Int? = nil, budget: Budget? = nil) {
        self.rpm = rpm
        self.tpm = tpm
        self.concurrent = concurrent
        self.budget = budget
    }
}

/// `fallback:`
public struct FallbackPolicy: Sendable {
    public var on: Set<UpstreamFailure.Kind>
    public var retriesPerTarget: Int
    public var cooldown: Duration
}

/// `auth.mode`
public enum AuthMode: String, Sendable { case tokens, open }

/// `users[]:`
public struct User: Sendable {
    public var name: String
    /// 32 raw bytes.
    public var tokenSHA256: [UInt8]
    /// Allowed route names; nil = all.
    public var routes: Set<String>?
    public var limits: Limits?
    /// May read everyone's usage (`GET /v1/usage`, the usage page).
    public var admin = false
}

/// The pipeline stages by name.
public enum StageName: String, Sendable, CaseIterable {
    case logger, auth, limiter, mapper, translator, transport
}

/// `logging:`
public struct LoggingSettings: Sendable {
    public enum Format: String, Sendable { case json, text }
    public var level: String
    public var format: Format
    public var accessLog: String
    public var verbose: Bool
}
