import Foundation
import Logging
import ServiceLifecycle

/// Runs the ledger writer for the life of the gateway and prunes old rows: every hour, rows older
/// than `state.retention` are rolled up by day and deleted. On shutdown (after the HTTP servers
/// drained) it writes everything still queued.
struct LedgerService: Service {
    let ledger: LedgerWriter
    let store: (any UsageStore)?
    let settings: StateSettings
    let logger: Logger

    func run() async throws {
        let ledger = self.ledger
        let interval = settings.flushInterval
        let writer = Task { await ledger.run(interval: interval) }
        let pruner = Task { await prune() }
        try? await gracefulShutdown()
        pruner.cancel()
        writer.cancel()
        await writer.value
        await pruner.value
        await ledger.flush()  // everything the drained requests recorded
        let left = ledger.pending
        if left > 0 { logger.error("usage ledger: \(left) records could not be written before exit") }
        await store?.close()
    }

    func prune() async {
        let retentionMs = Int64(settings.retention.components.seconds) * 1000
        while !Task.isCancelled {
            if let store {
                let cutoff = Int64(Date().timeIntervalSince1970 * 1000) - retentionMs
                do { try await store.prune(olderThanMs: cutoff) } catch {
                    ledger.storeFailed("cannot prune old rows", error)
                }
            }
            try? await Task.sleep(for: .seconds(3600))
        }
    }
}
