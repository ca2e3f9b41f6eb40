import Logging
import ServiceLifecycle

/// Graceful shutdown: on SIGTERM/SIGINT it tells systemd `STOPPING=1` and starts the
/// `shutdown_grace` timer; the HTTP server meanwhile stops accepting and lets in-flight requests
/// finish. Streams still open when the grace runs out end with an `overloaded_error` event, so
/// clients see a retryable error rather than a silent cut.
struct DrainService: Service {
    let grace: Duration
    let notifier: SystemdNotifier
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        notifier.notify("STOPPING=1")
        let open = StreamRegistry.shared.openStreams
        logger.info("shutting down: draining in-flight requests", metadata: ["open_streams": .stringConvertible(open), "grace": .string("\(grace)")])
        let grace = self.grace
        let logger = self.logger
        Task.detached {
            try? await Task.sleep(for: grace)
            let left = StreamRegistry.shared.openStreams
            if left > 0 {
                logger.warning("shutdown grace ended: closing open streams with an error", metadata: ["open_streams": .stringConvertible(left)])
            }
            StreamRegistry.shared.abortAll(message: "the gateway is shutting down; retry the request")
        }
    }
}
