import Foundation
import Logging
import NIOCore
import PostgresNIO

/// The ledger in PostgreSQL (`state.url: postgres://user:password@host:port/db`), with the same
/// tables and queries as the SQLite store, so replicas write one ledger. Migrations run under an
/// advisory lock, so replicas that start together apply each one once. One connection, used one
/// operation at a time and opened again after a failure.
public actor PostgresUsageStore: UsageStore {
    let configuration: PostgresConnection.Configuration
    private var connection: PostgresConnection?
    private let gate = SerialGate()
    private let logger = Logger(label: "switchyard.postgres")
    /// `pg_advisory_lock` key of the ledger's migrations.
    static let migrationLock: Int64 = 0x5357_4C45_4447_4552  // "SWLEDGER"

    /// Nil when the URL is not `postgres://` or `postgresql://` with a host.
    public init?(url: String) {
        guard let c = URLComponents(string: url), ["postgres", "postgresql"].contains(c.scheme ?? ""), let host = c.host, !host.isEmpty else {
            return nil
        }
        let database = c.path.hasPrefix("/") ? String(c.path.dropFirst()) : c.path
        var config = PostgresConnection.Configuration(
            host: host, port: c.port ?? 5432, username: c.user ?? "postgres", password: c.password,
            database: database.isEmpty ? nil : database, tls: .disable)
        config.options.connectTimeout = .seconds(5)
        configuration = config
    }

    /// The longest a connection attempt or an operation may take before the connection is
    /// dropped and the operation reported failed (a database that stops mid-handshake would
    /// otherwise hold the ledger's writer forever).
    static let operationTimeout: Duration = .seconds(15)

    private func exclusive<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await gate.run {
            try await StoreDeadline.run(within: Self.operationTimeout) {
                let c = try await self.open()
                do {
                    return try await body(c)
                } catch {
                    await self.drop()  // a broken connection is replaced on the next operation
                    throw error
                }
            } onTimeout: {
                await self.drop()
            }
        }
    }

    private func open() async throws -> PostgresConnection {
        if let connection, !connection.isClosed { return connection }
        let c = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
        do {
            try await Self.migrate(c, logger: logger)
        } catch {
            try? await c.close()
            throw error
        }
        connection = c
        return c
    }

    private func drop() async {
        try? await connection?.close()
        connection = nil
    }

    static func migrate(_ c: PostgresConnection, logger: Logger) async throws {
        try await c.query("SELECT pg_advisory_lock(\(migrationLock))", logger: logger)
        do {
            try await c.query("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at_ms BIGINT NOT NULL)", logger: logger)
            var applied = Set<Int>()
            for try await (version) in try await c.query("SELECT version FROM schema_migrations", logger: logger).decode(Int.self) {
                applied.insert(version)
            }
            for (version, statements) in LedgerSchema.migrations + SharedStateSchema.migrations where !applied.contains(version) {
                try await c.query("BEGIN", logger: logger)
                do {
                    for sql in statements { try await c.query(PostgresQuery(unsafeSQL: sql), logger: logger) }
                    let now = Int64(Date().timeIntervalSince1970 * 1000)
                    try await c.query("INSERT INTO schema_migrations (version, applied_at_ms) VALUES (\(version), \(now))", logger: logger)
                    try await c.query("COMMIT", logger: logger)
                } catch {
                    try? await c.query("ROLLBACK", logger: logger)
                    throw error
                }
            }
        } catch {
            _ = try? await c.query("SELECT pg_advisory_unlock(\(migrationLock))", logger: logger)
            throw error
        }
        try await c.query("SELECT pg_advisory_unlock(\(migrationLock))", logger: logger)
    }

    static func query(_ sql: String, _ values: [SQLValue]) throws -> PostgresQuery {
        var binds = PostgresBindings(capacity: values.count)
        for v in values {
            switch v {
            case .text(let s): try binds.append(s)
            case .int(let i): try binds.append(i)
            case .double(let d): try binds.append(d)
            case .null: binds.appendNull()
            }
        }
        return PostgresQuery(unsafeSQL: sql, binds: binds)
    }

    public func migrate() async throws {
        _ = try await exclusive { _ in () }
    }

    public func insert(_ records: [UsageRecord]) async throws {
        guard !records.isEmpty else { return }
        let logger = self.logger
        try await exclusive { c in
            try await c.query("BEGIN", logger: logger)
            do {
                var start = 0
                while start < records.count {
                    let chunk = records[start..<min(start + 500, records.count)]
                    try await c.query(
                        try Self.query(LedgerSchema.insertSQL(rows: chunk.count, .postgres), chunk.flatMap(LedgerSchema.binds)),
                        logger: logger)
                    start += 500
                }
                try await c.query("COMMIT", logger: logger)
            } catch {
                try? await c.query("ROLLBACK", logger: logger)
                throw error
            }
        }
    }

    public func spend(user: String?, route: String?, sinceMs: Int64) async throws -> Int64 {
        let (sql, values) = LedgerSchema.spendSQL(user: user, route: route, sinceMs: sinceMs, .postgres)
        let logger = self.logger
        return try await exclusive { c in
            for try await spend in try await c.query(try Self.query(sql, values), logger: logger).decode(Int64.self) { return spend }
            return 0
        }
    }

    public func report(_ query: UsageQuery) async throws -> [UsageReportRow] {
        let sql = LedgerSchema.reportSQL(query, .postgres)
        let values = LedgerSchema.reportBinds(query)
        let logger = self.logger
        return try await exclusive { c in
            var rows: [UsageReportRow] = []
            for try await row in try await c.query(try Self.query(sql, values), logger: logger) {
                let r = row.makeRandomAccess()
                let keys = try query.groupBy.map { try r["g_\($0.rawValue)"].decode(String?.self) ?? "" }
                func int(_ name: String) throws -> Int64 { try r[name].decode(Int64?.self) ?? 0 }
                rows.append(
                    UsageReportRow(
                        keys: keys,
                        totals: GroupUsage(
                            key: keys.joined(separator: " / "), requests: Int(try int("requests")), errors: Int(try int("errors")),
                            inputTokens: try int("input_tokens"), outputTokens: try int("output_tokens"), cacheReadTokens: try int("cache_read_tokens"),
                            cacheWriteTokens: try int("cache_write_tokens"), costMicroUSD: try int("cost_micro_usd"), unpriced: Int(try int("unpriced")))))
            }
            return rows
        }
    }

    public func prune(olderThanMs: Int64) async throws {
        let logger = self.logger
        try await exclusive { c in
            try await c.query("BEGIN", logger: logger)
            do {
                try await c.query(try Self.query(LedgerSchema.rollupSQL(.postgres), [.int(olderThanMs)]), logger: logger)
                try await c.query("DELETE FROM usage_records WHERE ts_ms < \(olderThanMs)", logger: logger)
                try await c.query("COMMIT", logger: logger)
            } catch {
                try? await c.query("ROLLBACK", logger: logger)
                throw error
            }
        }
    }

    public func close() async {
        _ = try? await gate.run { await self.drop() }
    }
}
