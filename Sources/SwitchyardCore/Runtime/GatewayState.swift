/// State that outlives config snapshots and is shared by every snapshot: the upstream HTTP
/// clients, the fallback cooldowns, the limiter windows, the ledger and budgets, the metrics, the
/// open streams and client connections. A reload re-binds to it by key. Nothing here is a
/// process-wide singleton: tests build their own.
public final class GatewayState: Sendable {
    public let clients: HTTPClients
    public let cooldowns: CooldownTable
    public let limiter: LimiterState
    public let accounting: Accounting
    public let metrics: Metrics
    /// Open streamed replies (keep-alives, idle timeouts, the shutdown deadline).
    public let streams: StreamRegistry
    /// Limits, budgets and cooldowns shared with the other replicas (PostgreSQL), when configured.
    public let sharedLimits: SharedLimits?
    /// What the limiter does while the shared state does not answer.
    public let whenSharedUnavailable: StateSettings.Unavailable
    /// Open client connections (close detection, `server.max_connections`).
    let connections = ConnectionRegistry()
    /// Returns memory to the system after large request bodies.
    public let memoryTrimmer = MemoryTrimmer()

    public init(
        clients: HTTPClients = HTTPClients(), accounting: Accounting? = nil, metrics: Metrics = Metrics(), cooldowns: CooldownTable = CooldownTable(),
        sharedLimits: SharedLimits? = nil, whenSharedUnavailable: StateSettings.Unavailable = .local
    ) {
        self.clients = clients
        self.cooldowns = cooldowns
        self.sharedLimits = sharedLimits
        self.whenSharedUnavailable = whenSharedUnavailable
        self.limiter = LimiterState()
        self.accounting = accounting ?? .disabled(metrics: metrics)
        self.metrics = metrics
        self.streams = StreamRegistry(metrics: metrics)
    }
}
