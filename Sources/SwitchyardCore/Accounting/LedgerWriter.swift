import Foundation
import Logging
import NIOConcurrencyHelpers

/// Writes usage records in batches off the request path. `record` only appends to a bounded
/// in-memory backlog (the request never waits on the disk); a background loop (`run`) writes the
/// backlog at least every `flush_interval`, and completely when the gateway drains. A store that
/// fails (unwritable, full, locked) keeps the records in the backlog and is retried; the problem is
/// logged once per outage, and records are dropped (and counted) only when the backlog overflows.
public final class LedgerWriter: Sendable {
    struct Backlog {
        var records: [UsageRecord] = []
        var dropped = 0
        var failing = false
    }

    /// At most this many records wait in memory.
    public let capacity: Int
    /// While at least this many records remain after a write, the next write follows at once.
    let eagerBatch = 2000
    private let backlog = NIOLockedValueBox(Backlog())
    private let store: any UsageStore
    private let metrics: Metrics
    private let logger: Logger

    public init(store: any UsageStore, metrics: Metrics, logger: Logger, capacity: Int = 100_000) {
        self.store = store
        self.metrics = metrics
        self.logger = logger
        self.capacity = capacity
    }

    /// Queues a record (never blocks).
    public func record(_ record: UsageRecord) {
        let accepted = backlog.withLockedValue { b -> Bool in
            guard b.records.count < capacity else {
                b.dropped += 1
                return false
            }
            b.records.append(record)
            return true
        }
        if !accepted { metrics.ledgerRecords(result: "dropped", count: 1) }
    }

    /// Records waiting to be written.
    public var pending: Int { backlog.withLockedValue { $0.records.count } }

    /// Every record waiting, in order (for the spool at exit); the backlog keeps them.
    public var waiting: [UsageRecord] { backlog.withLockedValue { $0.records } }

    /// Puts records from an earlier run in front of the backlog (up to the capacity).
    public func requeue(_ earlier: [UsageRecord]) {
        guard !earlier.isEmpty else { return }
        backlog.withLockedValue { b in b.records = Array((earlier + b.records).prefix(capacity)) }
    }

    /// Writes everything queued so far; returns false when the store refused (records kept).
    @discardableResult
    public func flush() async -> Bool {
        let batch = backlog.withLockedValue { b -> [UsageRecord] in
            defer { b.records.removeAll(keepingCapacity: true) }
            return b.records
        }
        metrics.ledgerBacklog(batch.count)
        guard !batch.isEmpty else { return true }
        do {
            try await store.insert(batch)
            let recovered = backlog.withLockedValue { b -> Bool in
                defer { b.failing = false }
                return b.failing
            }
            if recovered { logger.notice("usage ledger: the store accepts writes again", metadata: ["records": .stringConvertible(batch.count)]) }
            metrics.ledgerRecords(result: "written", count: batch.count)
            metrics.ledgerBacklog(pending)
            return true
        } catch {
            // Put the batch back in front of what arrived meanwhile, up to the capacity.
            let (firstFailure, dropped) = backlog.withLockedValue { b -> (Bool, Int) in
                let merged = batch + b.records
                let overflow = max(merged.count - capacity, 0)
                b.records = Array(merged.dropFirst(overflow))
                b.dropped += overflow
                defer { b.failing = true }
                return (!b.failing, overflow)
            }
            if dropped > 0 { metrics.ledgerRecords(result: "dropped", count: dropped) }
            metrics.ledgerBacklog(pending)
            if firstFailure {
                logger.error(
                    "usage ledger: cannot write to the store; records are kept in memory (up to \(capacity)) and retried",
                    metadata: ["error": .string(Self.describe(error))])
            }
            return false
        }
    }

    /// Reports a store failure met elsewhere (opening it at start, pruning): logged only when it
    /// starts an outage, so one broken store is one log line until it recovers.
    public func storeFailed(_ what: String, _ error: Error) {
        let first = backlog.withLockedValue { b -> Bool in
            defer { b.failing = true }
            return !b.failing
        }
        if first {
            logger.error(
                "usage ledger: \(what); serving anyway, records are kept in memory (up to \(capacity)) and retried",
                metadata: ["error": .string(Self.describe(error))])
        }
    }

    /// A short, readable error text (Foundation file errors carry a long dump otherwise).
    static func describe(_ error: Error) -> String {
        if let e = error as? CocoaError { return e.localizedDescription }
        return String(describing: error)
    }

    /// The writer loop: flushes every `interval` (at once again while a large backlog remains
    /// and the store accepts writes) until cancelled. The last write after it is the owner's
    /// (`LedgerService`), from a task that is not cancelled: the store refuses cancelled work.
    public func run(interval: Duration) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            if Task.isCancelled { break }
            while await flush(), pending >= eagerBatch, !Task.isCancelled {}
        }
    }
}
