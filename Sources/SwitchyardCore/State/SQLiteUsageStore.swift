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
    private let gate = SerialGate()

    public init(path: String) {
        self.path = path
    }

    /// Runs `body` alone and to its end, whatever happens to the caller's task.
    private func exclusive<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) async throws -> T) async throws -> T {
        try await gate.run { try await body(try await self.open()) }
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
                _ = try await c.query(
                    "INSERT INTO schema_migrations (version, applied_at_ms) VALUES (?, ?)",
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
        _ = try await c.query(SQLDialect.sqlite.begin, [])
        do {
            // 1000 rows (21,000 binds) per statement: below SQLite's limit of 32,766, and few
            // enough statements that preparing them costs little next to the rows.
            var start = 0
            while start < records.count {
                let chunk = records[start..<min(start + rowsPerStatement, records.count)]
                _ = try await c.query(LedgerSchema.insertSQL(rows: chunk.count, .sqlite), chunk.flatMap(LedgerSchema.binds).map(data))
                start += rowsPerStatement
            }
            _ = try await c.query("COMMIT", [])
        } catch {
            _ = try? await c.query("ROLLBACK", [])
            throw error
        }
    }

    static let rowsPerStatement = 1000

    static func data(_ v: SQLValue) -> SQLiteData {
        switch v {
        case .text(let s): return .text(s)
        case .int(let i): return .integer(Int(i))
        case .double(let d): return .float(d)
        case .null: return .null
        }
    }

    public func spend(user: String?, route: String?, sinceMs: Int64) async throws -> Int64 {
        let (sql, binds) = LedgerSchema.spendSQL(user: user, route: route, sinceMs: sinceMs, .sqlite)
        let values = binds.map(Self.data)
        return try await exclusive { c in Int64(try await c.query(sql, values).first?.column("spend")?.integer ?? 0) }
    }

    public func report(_ query: UsageQuery) async throws -> [UsageReportRow] {
        let sql = LedgerSchema.reportSQL(query, .sqlite)
        let binds = LedgerSchema.reportBinds(query).map(Self.data)
        let rows = try await exclusive { c in try await c.query(sql, binds) }
        return rows.map { row in
            let keys = query.groupBy.map { row.column("g_\($0.rawValue)")?.string ?? "" }
            func int(_ name: String) -> Int64 { Int64(row.column(name)?.integer ?? 0) }
            return UsageReportRow(
                keys: keys,
                totals: GroupUsage(
                    key: keys.joined(separator: " / "), requests: Int(int("requests")), errors: Int(int("errors")),
                    inputTokens: int("input_tokens"), outputTokens: int("output_tokens"), cacheReadTokens: int("cache_read_tokens"),
                    cacheWriteTokens: int("cache_write_tokens"), costMicroUSD: int("cost_micro_usd"), unpriced: Int(int("unpriced"))))
        }
    }

    public func prune(olderThanMs: Int64) async throws {
        try await exclusive { c in
            _ = try await c.query(SQLDialect.sqlite.begin, [])
            do {
                _ = try await c.query(LedgerSchema.rollupSQL(.sqlite), [.integer(Int(olderThanMs))])
                _ = try await c.query("DELETE FROM usage_records WHERE ts_ms < ?", [.integer(Int(olderThanMs))])
                _ = try await c.query("COMMIT", [])
            } catch {
                _ = try? await c.query("ROLLBACK", [])
                throw error
            }
        }
    }

    public func close() async {
        _ = try? await gate.run { await self.closeConnection() }
    }

    private func closeConnection() async {
        try? await connection?.close()
        connection = nil
    }
}
