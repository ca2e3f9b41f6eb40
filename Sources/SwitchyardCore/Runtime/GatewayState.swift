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
    /// Open client connections (close detection, `server.max_connections`).
    let connections = ConnectionRegistry()
    /// Returns memory to the system after large request bodies.
    public let memoryTrimmer = MemoryTrimmer()

    public init(clients: HTTPClients = HTTPClients(), accounting: Accounting? = nil, metrics: Metrics = Metrics()) {
        self.clients = clients
        self.cooldowns = CooldownTable()
        self.limiter = LimiterState()
        self.accounting = accounting ?? .disabled(metrics: metrics)
        self.metrics = metrics
        self.streams = StreamRegistry(metrics: metrics)
    }
}
