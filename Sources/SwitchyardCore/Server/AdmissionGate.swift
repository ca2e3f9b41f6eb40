import NIOConcurrencyHelpers

/// Bounds open client connections (`server.max_connections`): a request arriving on a connection
/// beyond the limit gets 529 overloaded_error at once, and that connection is closed, instead of
/// queueing.
public final class AdmissionGate: Sendable {
    public let limit: Int
    let connections: ConnectionRegistry
    let metrics: Metrics

    init(limit: Int, connections: ConnectionRegistry, metrics: Metrics) {
        self.limit = limit
        self.connections = connections
        self.metrics = metrics
    }

    /// Whether there is room for the connections open now.
    public func admits() -> Bool {
        connections.openConnections <= limit
    }

    /// A slot for one request in flight.
    func slot() -> AdmissionSlot { AdmissionSlot(metrics: metrics) }
}

/// One request in flight (for the in-flight metric), released exactly once when its reply has
/// been written.
final class AdmissionSlot: Sendable {
    private let released = NIOLockedValueBox(false)
    private let metrics: Metrics

    init(metrics: Metrics) {
        self.metrics = metrics
        metrics.requestStarted()
    }

    func release() {
        let first = released.withLockedValue { done -> Bool in
            defer { done = true }
            return !done
        }
        if first { metrics.requestFinished() }
    }
}
