import Dispatch
import NIOConcurrencyHelpers
import SwitchyardWire

/// What happened to one request, filled in by the stages as it runs (and by the stream as it
/// ends) and read by the access log, the limiter's settlement and metrics.
///
/// `@unchecked Sendable`: every stored mutable property is private and read or written only inside
/// `lock.withLock`.
public final class CallStats: @unchecked Sendable {
    private let lock = NIOLock()
    private var _user: String?
    private var _route: String?
    private var _requestedModel: String?
    private var _target: String?
    private var _attempts: [String] = []
    private var _usage: Usage?
    private var _errorType: String?
    private var _upstreamNanos: UInt64 = 0
    private var _firstByteNanos: UInt64?
    private var _stream = false
    private var _cost: (micro: Int64?, source: String?)?
    public let startNanos: UInt64

    public init(startNanos: UInt64 = MonotonicClock.nanos()) {
        self.startNanos = startNanos
    }

    public var user: String? {
        get { lock.withLock { _user } }
        set { lock.withLock { _user = newValue } }
    }
    public var route: String? {
        get { lock.withLock { _route } }
        set { lock.withLock { _route = newValue } }
    }
    public var requestedModel: String? {
        get { lock.withLock { _requestedModel } }
        set { lock.withLock { _requestedModel = newValue } }
    }
    public var target: String? {
        get { lock.withLock { _target } }
        set { lock.withLock { _target = newValue } }
    }
    public var usage: Usage? {
        get { lock.withLock { _usage } }
        set { lock.withLock { _usage = newValue } }
    }
    public var errorType: String? {
        get { lock.withLock { _errorType } }
        set { lock.withLock { _errorType = newValue } }
    }
    public var stream: Bool {
        get { lock.withLock { _stream } }
        set { lock.withLock { _stream = newValue } }
    }
    /// The request's cost, computed once when the reply ended (the limiter settles budgets with
    /// it, the access log records it), whichever asks first.
    public func cost(_ book: CostBook) -> (micro: Int64?, source: String?) {
        lock.withLock {
            if let c = _cost { return c }
            let c = book.cost(target: _target, usage: _usage)
            _cost = c
            return c
        }
    }
    /// One entry per upstream attempt: `provider:model status`.
    public var attempts: [String] { lock.withLock { _attempts } }
    public func recordAttempt(_ entry: String) { lock.withLock { _attempts.append(entry) } }
    /// Time spent waiting on upstreams.
    public var upstreamNanos: UInt64 { lock.withLock { _upstreamNanos } }
    public func addUpstreamTime(_ nanos: UInt64) { lock.withLock { _upstreamNanos &+= nanos } }
    /// When the first byte of the reply was handed to the client (since start).
    public var firstByteNanos: UInt64? { lock.withLock { _firstByteNanos } }
    public func markFirstByte() {
        let now = MonotonicClock.nanos()
        lock.withLock { if _firstByteNanos == nil { _firstByteNanos = now &- startNanos } }
    }
}

/// Monotonic nanoseconds for latency arithmetic.
public enum MonotonicClock {
    @inlinable public static func nanos() -> UInt64 {
        DispatchTime.now().uptimeNanoseconds
    }
}
