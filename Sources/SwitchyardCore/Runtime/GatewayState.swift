/// State that outlives config snapshots and is shared by every snapshot: the upstream HTTP
/// clients, the fallback cooldowns, the access-log sink. A reload re-binds to it by key.
public final class GatewayState: Sendable {
    public let clients: HTTPClients
    public let cooldowns: CooldownTable
    public let limiter: LimiterState

    public init(clients: HTTPClients = HTTPClients()) {
        self.clients = clients
        self.cooldowns = CooldownTable()
        self.limiter = LimiterState()
    }
}
