import ServiceLifecycle

/// Drives `StreamRegistry.tick` once a second for the life of the server. Listed before the HTTP
/// server in the service group, so it keeps ticking (pings, idle timeouts, the shutdown
/// deadline) while the server drains, and stops after it.
public struct StreamTicker: Service {
    let streams: StreamRegistry
    let intervalNanos: UInt64
    let clock: @Sendable () -> UInt64

    public init(streams: StreamRegistry, intervalNanos: UInt64 = 1_000_000_000, clock: @escaping @Sendable () -> UInt64 = { MonotonicClock.nanos() }) {
        self.streams = streams
        self.intervalNanos = intervalNanos
        self.clock = clock
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(nanoseconds: intervalNanos)
                streams.tick(now: clock())
            }
        }
    }
}
