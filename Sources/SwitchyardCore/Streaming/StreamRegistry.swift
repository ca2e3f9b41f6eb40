import NIOConcurrencyHelpers
import SwitchyardWire

/// The open streamed replies of the process: one ticker task wakes every few seconds to send
/// `ping`s on streams whose upstream has been silent for `pingIdleNanos`, and shutdown ends every
/// stream still open with an `overloaded_error` event.
public final class StreamRegistry: Sendable {
    public static let shared = StreamRegistry()
    static let pingIdleNanos: UInt64 = 15_000_000_000
    static let tickNanos: UInt64 = 1_000_000_000
    static let pingBytes = Array("event: ping\ndata: {\"type\":\"ping\"}\n\n".utf8)

    private struct State {
        var pumps: [Int: StreamPump] = [:]
        var counter = 0
        var ticker: Task<Void, Never>?
    }

    private let state = NIOLockedValueBox(State())

    func nextID() -> Int { state.withLockedValue { s in s.counter += 1; return s.counter } }

    func register(_ pump: StreamPump) {
        state.withLockedValue { s in
            s.pumps[pump.id] = pump
            if s.ticker == nil {
                s.ticker = Task.detached { await StreamRegistry.shared.tickForever() }
            }
        }
        Metrics.shared.streamOpened()
    }

    func unregister(_ id: Int) {
        let removed = state.withLockedValue { $0.pumps.removeValue(forKey: id) != nil }
        if removed { Metrics.shared.streamClosed() }
    }

    public var openStreams: Int { state.withLockedValue { $0.pumps.count } }

    private func tickForever() async {
        while !Task.isCancelled {
            try? await Task.sleep(nanoseconds: Self.tickNanos)
            let now = MonotonicClock.nanos()
            for pump in state.withLockedValue({ Array($0.pumps.values) }) {
                pump.checkIdle(now: now)
                pump.keepAlive(now: now, idleNanos: Self.pingIdleNanos, ping: Self.pingBytes)
            }
        }
    }

    /// Ends every open stream with an `event: error` (gateway shutting down).
    public func abortAll(message: String) {
        for pump in state.withLockedValue({ Array($0.pumps.values) }) { pump.abort(type: .overloaded, message: message) }
    }
}
