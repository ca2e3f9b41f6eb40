import Logging
import ServiceLifecycle

/// Graceful shutdown: on SIGTERM/SIGINT it tells systemd `STOPPING=1` and sets the
/// `shutdown_grace` deadline on the open streams; the HTTP server meanwhile stops accepting and
/// lets in-flight requests finish. Streams still open at the deadline end with an
/// `overloaded_error` event (`StreamTicker` enforces it), so clients see a retryable error rather
/// than a silent cut.
struct DrainService: Service {
    let grace: Duration
    let streams: StreamRegistry
    let notifier: SystemdNotifier
    let logger: Logger
    let clock: @Sendable () -> UInt64 = { MonotonicClock.nanos() }

    func run() async throws {
        try? await gracefulShutdown()
        notifier.notify("STOPPING=1")
        let open = streams.openStreams
        logger.info("shutting down: draining in-flight requests", metadata: ["open_streams": .stringConvertible(open), "grace": .string("\(grace)")])
        streams.shutdown(at: clock().addingSaturated(UInt64(grace.nanoseconds)))
    }
}
