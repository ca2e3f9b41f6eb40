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
        if let spool = settings.spoolPath {
            let earlier = LedgerSpool.read(spool)
            if !earlier.isEmpty {
                ledger.requeue(earlier)
                logger.notice("usage ledger: \(earlier.count) records from the spool of an earlier run are written first", metadata: ["spool": .string(spool)])
                if await ledger.flush() { LedgerSpool.remove(spool) }
            }
        }
        let writer = Task { await ledger.run(interval: interval) }
        let pruner = Task { await prune() }
        try? await gracefulShutdown()
        pruner.cancel()
        writer.cancel()
        await writer.value
        await pruner.value
        await ledger.flush()  // everything the drained requests recorded
        let left = ledger.waiting
        if let spool = settings.spoolPath {
            do {
                try LedgerSpool.write(left, to: spool)
                if !left.isEmpty {
                    logger.warning(
                        "usage ledger: the store is unavailable; \(left.count) records are spooled to disk and written at the next start",
                        metadata: ["spool": .string(spool)])
                }
            } catch {
                logger.error("usage ledger: \(left.count) records could not be written before exit, nor spooled", metadata: ["spool": .string(spool)])
            }
        } else if !left.isEmpty {
            logger.error("usage ledger: \(left.count) records could not be written before exit")
        }
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
