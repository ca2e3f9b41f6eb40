import NIOConcurrencyHelpers
import SwitchyardWire

/// The open streamed replies of the gateway, owned by `GatewayState`. `StreamTicker` calls
/// `tick(now:)` every second: streams whose upstream has been silent for `pingIdleNanos` get a
/// keep-alive in their protocol's form, streams past their idle timeout end with a timeout error,
/// and once a shutdown deadline has passed every stream still open ends with an
/// `overloaded_error` event.
public final class StreamRegistry: Sendable {
    static let pingIdleNanos: UInt64 = 15_000_000_000

    private struct State {
        var pumps: [Int: StreamPump] = [:]
        var counter = 0
        var shutdownDeadline: UInt64?
    }

    private let state = NIOLockedValueBox(State())
    let metrics: Metrics

    public init(metrics: Metrics) {
        self.metrics = metrics
    }

    func nextID() -> Int {
        state.withLockedValue { s in
            s.counter += 1
            return s.counter
        }
    }

    func register(_ pump: StreamPump) {
        state.withLockedValue { $0.pumps[pump.id] = pump }
        metrics.streamOpened()
    }

    func unregister(_ id: Int) {
        let removed = state.withLockedValue { $0.pumps.removeValue(forKey: id) != nil }
        if removed { metrics.streamClosed() }
    }

    public var openStreams: Int { state.withLockedValue { $0.pumps.count } }

    /// Keep-alives, idle timeouts and the shutdown deadline, as of `now` (monotonic nanoseconds).
    public func tick(now: UInt64) {
        let (pumps, deadline) = state.withLockedValue { (Array($0.pumps.values), $0.shutdownDeadline) }
        if let deadline, now >= deadline {
            for pump in pumps { pump.abort(type: .overloaded, message: "the gateway is shutting down; retry the request") }
            return
        }
        for pump in pumps {
            pump.checkIdle(now: now)
            pump.keepAlive(now: now, idleNanos: Self.pingIdleNanos)
        }
    }

    /// Streams still open at `deadline` (monotonic nanoseconds) end with an error event.
    public func shutdown(at deadline: UInt64) {
        state.withLockedValue { $0.shutdownDeadline = deadline }
    }

    /// Ends every open stream with an `event: error` now.
    public func abortAll(message: String) {
        for pump in state.withLockedValue({ Array($0.pumps.values) }) { pump.abort(type: .overloaded, message: message) }
    }
}
