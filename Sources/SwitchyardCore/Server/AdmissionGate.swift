import NIOConcurrencyHelpers

/// Bounds the requests being handled at once (`server.max_connections`): past it, new requests
/// get 529 overloaded_error at once instead of queueing.
public final class AdmissionGate: Sendable {
    public let limit: Int
    private let count = NIOLockedValueBox(0)

    public init(limit: Int) {
        self.limit = limit
    }

    /// Claims a slot, or returns false when all are taken.
    public func enter() -> Bool {
        count.withLockedValue { n in
            guard n < limit else { return false }
            n += 1
            return true
        }
    }

    public func leave() {
        count.withLockedValue { $0 = max($0 - 1, 0) }
    }
}

/// One request's claim on the gate, released exactly once (when its reply has been written).
final class AdmissionSlot: Sendable {
    private let gate: AdmissionGate
    private let released = NIOLockedValueBox(false)

    init(gate: AdmissionGate) {
        self.gate = gate
        Metrics.shared.requestStarted()
    }

    func release() {
        let first = released.withLockedValue { done -> Bool in
            defer { done = true }
            return !done
        }
        if first {
            gate.leave()
            Metrics.shared.requestFinished()
        }
    }
}
