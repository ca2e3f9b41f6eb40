import Foundation
import Logging
import NIOCore
import SQLiteNIO

/// The embedded ledger store: one SQLite file (WAL mode, so `switchyard usage` can read while the
/// gateway writes). Every operation runs alone on the one connection (a transaction is never
/// interleaved with another operation's statements) and is shielded from the caller's task
/// cancellation, so a shutdown cannot stop a transaction half way.
public actor SQLiteUsageStore: UsageStore {
    public let path: String
    private var connection: SQLiteConnection?
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    public init(path: String) {
        self.path = path
    }

    /// Runs `body` alone and to its end, whatever happens to the caller's task.
    private func exclusive<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) async throws -> T) async throws -> T {
        try await Task {
            await self.acquire()
            defer { self.release() }
            return try await body(try await self.open())
        }.value
    }

    private func acquire() async {
        if !busy {
            busy = true
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    private func release() {
        if waiting.isEmpty { busy = false } else { waiting.removeFirst().resume() }
    }

    /// Opens the file (creating its folder), sets WAL mode and runs the migrations (on first use,
    /// and again after a failure, so a store that was unwritable is retried).
    private func open() async throws -> SQLiteConnection {
        if let connection { return connection }
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        let c = try await SQLiteConnection.open(storage: .file(path: path), logger: Logger(label: "switchyard.sqlite"))
        do {
            _ = try await c.query("PRAGMA journal_mode=WAL", [])
            _ = try await c.query("PRAGMA busy_timeout=5000", [])
            _ = try await c.query("PRAGMA synchronous=NORMAL", [])
            try await Self.migrate(c)
        } catch {
            try? await c.close()
            throw error
        }
        connection = c
        return c
    }

    public func migrate() async throws {
        _ = try await exclusive { _ in () }
    }

    static func migrate(_ c: SQLiteConnection) async throws {
        _ = try await c.query("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at_ms INTEGER NOT NULL)", [])
        let applied = Set(try await c.query("SELECT version FROM schema_migrations", []).compactMap { $0.column("version")?.integer })
        for (version, statements) in LedgerSchema.migrations where !applied.contains(version) {
            _ = try await c.query("BEGIN IMMEDIATE", [])
            do {
                for sql in statements { _ = try await c.query(sql, []) }
                _ = try await c.query("INSERT INTO schema_migrations (version, applied_at_ms) VALUES (?, ?)",
                                      [.integer(version), .integer(Int(Date().timeIntervalSince1970 * 1000))])
                _ = try await c.query("COMMIT", [])
            } catch {
                _ = try? await c.query("ROLLBACK", [])
                throw error
            }
        }
    }

    public func insert(_ records: [UsageRecord]) async throws {
        guard !records.isEmpty else { return }
        try await exclusive { c in try await Self.insert(records, into: c) }
    }

    static func insert(_ records: [UsageRecord], into c: SQLiteConnection) async throws {
        _ = try await c.query("BEGIN IMMEDIATE", [])
        do {
            // 100 rows per statement keeps the bind count far below SQLite's limit.
            var start = 0
            while start < records.count {
                let chunk = records[start..<min(start + 100, records.count)]
                let placeholders = Array(repeating: LedgerSchema.rowPlaceholders, count: chunk.count).joined(separator: ",")
                _ = try await c.query("INSERT OR IGNORE INTO usage_records (\(LedgerSchema.columns)) VALUES \(placeholders)",
                                      chunk.flatMap(Self.binds))
                start += 100
            }
            _ = try await c.query("COMMIT", [])
        } catch {
            _ = try? await c.query("ROLLBACK", [])
            throw error
        }
    }

    static func binds(_ r: UsageRecord) -> [SQLiteData] {
        func text(_ s: String?) -> SQLiteData { s.map { .text($0) } ?? .null }
        return [
            .text(r.requestID), .integer(Int(r.timeMs)), .text(r.instance), text(r.user), text(r.route), .text(r.endpoint), text(r.model),
            text(r.target), .text(r.attempts.joined(separator: "; ")), .integer(r.stream ? 1 : 0), .integer(r.status), text(r.errorType),
            .integer(r.inputTokens), .integer(r.outputTokens), .integer(r.cacheReadTokens), .integer(r.cacheWriteTokens),
            .integer(r.estimated ? 1 : 0), r.costMicroUSD.map { .integer(Int($0)) } ?? .null, text(r.costSource),
            .float(r.latencyMs), r.ttfbMs.map { .float($0) } ?? .null,
        ]
    }

    public func spend(user: String?, route: String?, sinceMs: Int64) async throws -> Int64 {
        var filters = ["ts_ms >= ?"], dailyFilters = ["day >= ?"]
        var binds: [SQLiteData] = [.integer(Int(sinceMs))]
        var dailyBinds: [SQLiteData] = [.text(LedgerSchema.day(ms: sinceMs))]
        if let user { filters.append("user_name = ?"); dailyFilters.append("user_name = ?"); binds.append(.text(user)); dailyBinds.append(.text(user)) }
        if let route { filters.append("route = ?"); dailyFilters.append("route = ?"); binds.append(.text(route)); dailyBinds.append(.text(route)) }
        let sql = """
            SELECT (SELECT COALESCE(SUM(cost_micro_usd), 0) FROM usage_records WHERE \(filters.joined(separator: " AND ")))
                 + (SELECT COALESCE(SUM(cost_micro_usd), 0) FROM usage_daily WHERE \(dailyFilters.joined(separator: " AND "))) AS spend
            """
        let all = binds + dailyBinds
        return try await exclusive { c in Int64(try await c.query(sql, all).first?.column("spend")?.integer ?? 0) }
    }

    public func report(_ query: UsageQuery) async throws -> [UsageReportRow] {
        let sql = LedgerSchema.reportSQL(query)
        var binds: [SQLiteData] = [.integer(Int(query.sinceMs)), .integer(Int(query.untilMs))]
        if let user = query.user { binds.append(.text(user)) }
        binds += [.text(LedgerSchema.day(ms: query.sinceMs)), .text(LedgerSchema.day(ms: query.untilMs))]
        if let user = query.user { binds.append(.text(user)) }
        let rows = try await exclusive { c in try await c.query(sql, binds) }
        return rows.map { row in
            let keys = query.groupBy.map { row.column("g_\($0.rawValue)")?.string ?? "" }
            func int(_ name: String) -> Int64 { Int64(row.column(name)?.integer ?? 0) }
            return UsageReportRow(keys: keys, totals: GroupUsage(
                key: keys.joined(separator: " / "), requests: Int(int("requests")), errors: Int(int("errors")),
                inputTokens: int("input_tokens"), outputTokens: int("output_tokens"), cacheReadTokens: int("cache_read_tokens"),
                cacheWriteTokens: int("cache_write_tokens"), costMicroUSD: int("cost_micro_usd"), unpriced: Int(int("unpriced"))))
        }
    }

    public func prune(olderThanMs: Int64) async throws {
        try await exclusive { c in
            _ = try await c.query("BEGIN IMMEDIATE", [])
            do {
                _ = try await c.query(LedgerSchema.rollupSQL, [.integer(Int(olderThanMs))])
                _ = try await c.query("DELETE FROM usage_records WHERE ts_ms < ?", [.integer(Int(olderThanMs))])
                _ = try await c.query("COMMIT", [])
            } catch {
                _ = try? await c.query("ROLLBACK", [])
                throw error
            }
        }
    }

    public func close() async {
        await acquire()
        defer { release() }
        try? await connection?.close()
        connection = nil
    }
}
