import Foundation
import Logging
import SwitchyardCore
import Testing

@Suite struct LedgerStoreTests {
    func record(
        _ id: String, ms: Int64, user: String = "alice", route: String = "main", target: String = "up:m", cost: Int64? = 100,
        input: Int = 10, output: Int = 5, status: Int = 200
    ) -> UsageRecord {
        UsageRecord(
            timeMs: ms, requestID: id, instance: "gw", user: user, route: route, endpoint: "messages", model: "claude-x", target: target,
            attempts: ["up:m 200"], stream: false, status: status, errorType: status >= 400 ? "api_error" : nil, inputTokens: input,
            outputTokens: output, cacheReadTokens: 1, cacheWriteTokens: 2, estimated: false, costMicroUSD: cost,
            costSource: cost == nil ? nil : "prices", latencyMs: 1.5, ttfbMs: nil)
    }

    func tempStore() -> (SQLiteUsageStore, String) {
        let dir = NSTemporaryDirectory() + "ledger-test-\(UUID().uuidString)"
        return (SQLiteUsageStore(path: dir + "/nested/ledger.sqlite"), dir)
    }

    let day: Int64 = 86_400_000
    let t0: Int64 = 1_796_284_800_000  // 2026-12-03T00:00Z

    @Test func rowsAreWrittenOnceAndSummedExactly() async throws {
        let (store, dir) = tempStore()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await store.migrate()
        try await store.insert([record("a", ms: t0), record("b", ms: t0 + 1, user: "bob", cost: nil), record("c", ms: t0 + 2, cost: 0, status: 500)])
        try await store.insert([record("a", ms: t0)])  // a replayed record is not counted twice
        let rows = try await store.report(UsageQuery(sinceMs: t0 - day, untilMs: t0 + day, groupBy: [.user]))
        let alice = try #require(rows.first { $0.keys == ["alice"] })
        #expect(alice.totals.requests == 2)
        #expect(alice.totals.errors == 1)
        #expect(alice.totals.costMicroUSD == 100)
        let bob = try #require(rows.first { $0.keys == ["bob"] })
        #expect(bob.totals.unpriced == 1)
        #expect(try await store.spend(user: "alice", route: nil, sinceMs: t0 - day) == 100)
        #expect(try await store.spend(user: nil, route: "main", sinceMs: t0 + 1) == 0)
        await store.close()
    }

    @Test func retentionRollsOldRowsUpByDayAndKeepsTheTotals() async throws {
        let (store, dir) = tempStore()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await store.insert([
            record("old1", ms: t0 - 40 * day), record("old2", ms: t0 - 40 * day + 5, cost: 50), record("old3", ms: t0 - 39 * day, user: "bob"),
            record("new", ms: t0),
        ])
        let query = UsageQuery(sinceMs: t0 - 60 * day, untilMs: t0 + day, groupBy: [.user, .day])
        let before = try await store.report(query)
        try await store.prune(olderThanMs: t0 - 30 * day)
        try await store.prune(olderThanMs: t0 - 30 * day)  // idempotent: nothing left to roll up
        let after = try await store.report(query)
        #expect(before == after)
        #expect(after.first { $0.keys == ["alice", "2026-10-24"] }?.totals.costMicroUSD == 150)
        #expect(try await store.spend(user: "alice", route: nil, sinceMs: t0 - 60 * day) == 250)
        await store.close()
    }

    @Test func anUnwritableStoreKeepsRecordsInMemoryAndCountsDropsOnlyPastTheBacklog() async throws {
        let store = SQLiteUsageStore(path: "/proc/switchyard-cannot-write/ledger.sqlite")
        let ledger = LedgerWriter(store: store, metrics: Metrics(), logger: Logger(label: "test"), capacity: 3)
        for i in 0..<5 { ledger.record(record("r\(i)", ms: t0 + Int64(i))) }
        #expect(ledger.pending == 3)  // two dropped at the door
        let written = await ledger.flush()
        #expect(!written)
        #expect(ledger.pending == 3)  // kept for the next try
    }
}
