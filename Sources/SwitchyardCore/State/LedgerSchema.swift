import Foundation

/// A bound SQL value, the same for every store.
enum SQLValue: Sendable, Equatable {
    case text(String)
    case int(Int64)
    case double(Double)
    case null
}

/// The SQL flavour of a store: the few places where SQLite and PostgreSQL differ.
enum SQLDialect: Sendable {
    case sqlite, postgres

    /// The n-th placeholder (1-based): `?` or `$n`.
    func placeholder(_ n: Int) -> String { self == .sqlite ? "?" : "$\(n)" }

    /// `YYYY-MM-DD` (UTC) of the `ts_ms` column.
    var dayOfTimestamp: String {
        self == .sqlite
            ? "strftime('%Y-%m-%d', ts_ms / 1000, 'unixepoch')"
            : "to_char(to_timestamp(ts_ms / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
    }

    /// Starts a write transaction (SQLite takes the write lock at once).
    var begin: String { self == .sqlite ? "BEGIN IMMEDIATE" : "BEGIN" }

    /// Replaces each `?` with this dialect's placeholder, numbered from 1.
    func numbered(_ sql: String) -> String {
        guard self == .postgres else { return sql }
        var out = ""
        var n = 0
        for c in sql {
            if c == "?" {
                n += 1
                out += "$\(n)"
            } else {
                out.append(c)
            }
        }
        return out
    }
}

/// The ledger's tables and queries, shared by the stores (SQL written once, with the dialect's
/// few differences filled in). Migrations are numbered and run once each, in order, at start.
enum LedgerSchema {
    static let migrations: [(version: Int, statements: [String])] = [
        (
            1,
            [
                """
                CREATE TABLE usage_records (
                    request_id TEXT PRIMARY KEY, ts_ms BIGINT NOT NULL, instance TEXT NOT NULL, user_name TEXT, route TEXT, endpoint TEXT NOT NULL,
                    model TEXT, target TEXT, attempts TEXT NOT NULL, stream INTEGER NOT NULL, status INTEGER NOT NULL, error_type TEXT,
                    input_tokens BIGINT NOT NULL, output_tokens BIGINT NOT NULL, cache_read_tokens BIGINT NOT NULL, cache_write_tokens BIGINT NOT NULL,
                    estimated INTEGER NOT NULL, cost_micro_usd BIGINT, cost_source TEXT, latency_ms DOUBLE PRECISION NOT NULL, ttfb_ms DOUBLE PRECISION)
                """,
                "CREATE INDEX usage_records_ts ON usage_records (ts_ms)",
                "CREATE INDEX usage_records_user_ts ON usage_records (user_name, ts_ms)",
                "CREATE INDEX usage_records_route_ts ON usage_records (route, ts_ms)",
                """
                CREATE TABLE usage_daily (
                    day TEXT NOT NULL, user_name TEXT NOT NULL, route TEXT NOT NULL, target TEXT NOT NULL, model TEXT NOT NULL,
                    requests BIGINT NOT NULL, errors BIGINT NOT NULL, input_tokens BIGINT NOT NULL, output_tokens BIGINT NOT NULL,
                    cache_read_tokens BIGINT NOT NULL, cache_write_tokens BIGINT NOT NULL, cost_micro_usd BIGINT NOT NULL, unpriced BIGINT NOT NULL,
                    PRIMARY KEY (day, user_name, route, target, model))
                """,
            ]
        )
    ]

    static let columns = """
        request_id, ts_ms, instance, user_name, route, endpoint, model, target, attempts, stream, status, error_type, \
        input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, estimated, cost_micro_usd, cost_source, latency_ms, ttfb_ms
        """
    static let rowPlaceholders = "(" + Array(repeating: "?", count: 21).joined(separator: ",") + ")"

    /// A multi-row insert that skips request ids already stored (a replay after an outage).
    static func insertSQL(rows: Int, _ d: SQLDialect) -> String {
        let values = Array(repeating: rowPlaceholders, count: rows).joined(separator: ",")
        return d.numbered("INSERT INTO usage_records (\(columns)) VALUES \(values) ON CONFLICT (request_id) DO NOTHING")
    }

    /// The values of one row, in `columns` order.
    static func binds(_ r: UsageRecord) -> [SQLValue] {
        func text(_ s: String?) -> SQLValue { s.map { .text($0) } ?? .null }
        return [
            .text(r.requestID), .int(r.timeMs), .text(r.instance), text(r.user), text(r.route), .text(r.endpoint), text(r.model),
            text(r.target), .text(r.attempts.joined(separator: "; ")), .int(r.stream ? 1 : 0), .int(Int64(r.status)), text(r.errorType),
            .int(Int64(r.inputTokens)), .int(Int64(r.outputTokens)), .int(Int64(r.cacheReadTokens)), .int(Int64(r.cacheWriteTokens)),
            .int(r.estimated ? 1 : 0), r.costMicroUSD.map { .int($0) } ?? .null, text(r.costSource),
            .double(r.latencyMs), r.ttfbMs.map { .double($0) } ?? .null,
        ]
    }

    /// Spend of a user or a route since a time: (SQL, binds).
    static func spendSQL(user: String?, route: String?, sinceMs: Int64, _ d: SQLDialect) -> (String, [SQLValue]) {
        var filters = ["ts_ms >= ?"]
        var dailyFilters = ["day >= ?"]
        var binds: [SQLValue] = [.int(sinceMs)]
        var dailyBinds: [SQLValue] = [.text(day(ms: sinceMs))]
        if let user {
            filters.append("user_name = ?")
            dailyFilters.append("user_name = ?")
            binds.append(.text(user))
            dailyBinds.append(.text(user))
        }
        if let route {
            filters.append("route = ?")
            dailyFilters.append("route = ?")
            binds.append(.text(route))
            dailyBinds.append(.text(route))
        }
        let sql = """
            SELECT CAST((SELECT COALESCE(SUM(cost_micro_usd), 0) FROM usage_records WHERE \(filters.joined(separator: " AND ")))
                 + (SELECT COALESCE(SUM(cost_micro_usd), 0) FROM usage_daily WHERE \(dailyFilters.joined(separator: " AND "))) AS BIGINT) AS spend
            """
        return (d.numbered(sql), binds + dailyBinds)
    }

    /// Binds of `reportSQL`.
    static func reportBinds(_ q: UsageQuery) -> [SQLValue] {
        var binds: [SQLValue] = [.int(q.sinceMs), .int(q.untilMs)]
        if let user = q.user { binds.append(.text(user)) }
        binds += [.text(day(ms: q.sinceMs)), .text(day(ms: q.untilMs))]
        if let user = q.user { binds.append(.text(user)) }
        return binds
    }

    /// Per-request rows in the uniform shape the daily rollups have.
    static func recordsAsDaily(_ d: SQLDialect) -> String {
        """
        SELECT \(d.dayOfTimestamp) AS day, COALESCE(user_name, '') AS user_name, COALESCE(route, '') AS route,
               COALESCE(target, '') AS target, COALESCE(model, '') AS model, 1 AS requests, CASE WHEN status >= 400 THEN 1 ELSE 0 END AS errors,
               input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, COALESCE(cost_micro_usd, 0) AS cost_micro_usd,
               CASE WHEN cost_micro_usd IS NULL THEN 1 ELSE 0 END AS unpriced
        FROM usage_records
        """
    }

    static func rollupSQL(_ d: SQLDialect) -> String {
        d.numbered(
            """
            INSERT INTO usage_daily (day, user_name, route, target, model, requests, errors, input_tokens, output_tokens, cache_read_tokens,
                                     cache_write_tokens, cost_micro_usd, unpriced)
            SELECT day, user_name, route, target, model, SUM(requests), SUM(errors), SUM(input_tokens), SUM(output_tokens), SUM(cache_read_tokens),
                   SUM(cache_write_tokens), SUM(cost_micro_usd), SUM(unpriced)
            FROM (\(recordsAsDaily(d)) WHERE ts_ms < ?) AS old GROUP BY day, user_name, route, target, model
            ON CONFLICT (day, user_name, route, target, model) DO UPDATE SET
                requests = usage_daily.requests + excluded.requests, errors = usage_daily.errors + excluded.errors,
                input_tokens = usage_daily.input_tokens + excluded.input_tokens, output_tokens = usage_daily.output_tokens + excluded.output_tokens,
                cache_read_tokens = usage_daily.cache_read_tokens + excluded.cache_read_tokens,
                cache_write_tokens = usage_daily.cache_write_tokens + excluded.cache_write_tokens,
                cost_micro_usd = usage_daily.cost_micro_usd + excluded.cost_micro_usd, unpriced = usage_daily.unpriced + excluded.unpriced
            """)
    }

    /// Grouped totals over recent rows and older daily rollups. Binds: since ms, until ms,
    /// [user], since day, until day, [user].
    static func reportSQL(_ q: UsageQuery, _ d: SQLDialect) -> String {
        let userFilter = q.user == nil ? "" : " AND user_name = ?"
        let groups = q.groupBy.map { "\(column($0)) AS g_\($0.rawValue)" }
        let sums = ["requests", "errors", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "cost_micro_usd", "unpriced"]
        let select = (groups + sums.map { "CAST(COALESCE(SUM(\($0)), 0) AS BIGINT) AS \($0)" }).joined(separator: ", ")
        let groupBy = q.groupBy.isEmpty ? "" : " GROUP BY " + q.groupBy.map(column).joined(separator: ", ")
        let orderBy = q.groupBy.isEmpty ? "" : " ORDER BY " + (q.groupBy.contains(.day) ? "day, " : "") + "cost_micro_usd DESC, requests DESC"
        return d.numbered(
            """
            SELECT \(select) FROM (
                SELECT * FROM (\(recordsAsDaily(d)) WHERE ts_ms >= ? AND ts_ms < ?\(userFilter)) AS recent
                UNION ALL
                SELECT day, user_name, route, target, model, requests, errors, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
                       cost_micro_usd, unpriced FROM usage_daily WHERE day >= ? AND day < ?\(userFilter)
            ) AS all_rows\(groupBy)\(orderBy)
            """)
    }

    /// The column behind a grouping (`user` is a reserved word in PostgreSQL).
    static func column(_ g: UsageGrouping) -> String { g == .user ? "user_name" : g.rawValue }

    /// `YYYY-MM-DD` (UTC) of a Unix time in milliseconds.
    static func day(ms: Int64) -> String {
        var t = time_t(ms / 1000)
        var fields = tm()
        gmtime_r(&t, &fields)
        return String(format: "%04d-%02d-%02d", Int(fields.tm_year) + 1900, Int(fields.tm_mon) + 1, Int(fields.tm_mday))
    }
}
