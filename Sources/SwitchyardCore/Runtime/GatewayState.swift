/// State that outlives config snapshots and is shared by every snapshot: the upstream HTTP
/// clients, the fallback cooldowns, the limiter windows, the ledger and budgets. A reload
/// re-binds to it by key.
public final class GatewayState: Sendable {
    public let clients: HTTPClients
    public let cooldowns: CooldownTable
    public let limiter: LimiterState
    public let accounting: Accounting
    public let metrics: Metrics
    /// Returns memory to the system after large request bodies.
    public let memoryTrimmer = MemoryTrimmer()

    public init(clients: HTTPClients = HTTPClients(), accounting: Accounting = .disabled(), metrics: Metrics = .shared) {
        self.clients = clients
        self.cooldowns = CooldownTable()
        self.limiter = LimiterState()
        self.accounting = accounting
        self.metrics = metrics
    }
}
