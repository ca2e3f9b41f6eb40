import NIOConcurrencyHelpers

/// Bounds open client connections (`server.max_connections`): a request arriving on a connection
/// beyond the limit gets 529 overloaded_error at once, and that connection is closed, instead of
/// queueing.
public final class AdmissionGate: Sendable {
    public let limit: Int

    public init(limit: Int) {
        self.limit = limit
    }

    /// Whether there is room for the connections open now.
    public func admits() -> Bool {
        ConnectionRegistry.shared.openConnections <= limit
    }
}

/// One request in flight (for the in-flight metric), released exactly once when its reply has
/// been written.
final class AdmissionSlot: Sendable {
    private let released = NIOLockedValueBox(false)

    init() {
        Metrics.shared.requestStarted()
    }

    func release() {
        let first = released.withLockedValue { done -> Bool in
            defer { done = true }
            return !done
        }
        if first { Metrics.shared.requestFinished() }
    }
}
