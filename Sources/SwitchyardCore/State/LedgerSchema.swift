import Foundation

/// The ledger's tables and queries, shared by the stores (SQL that SQLite and PostgreSQL both
/// accept). Migrations are numbered and run once each, in order, at start.
enum LedgerSchema {
    static let migrations: [(version: Int, statements: [String])] = [
        (1, [
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
        ]),
    ]

    static let columns = """
        request_id, ts_ms, instance, user_name, route, endpoint, model, target, attempts, stream, status, error_type, \
        input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, estimated, cost_micro_usd, cost_source, latency_ms, ttfb_ms
        """
    static let rowPlaceholders = "(" + Array(repeating: "?", count: 21).joined(separator: ",") + ")"

    /// Per-request rows in the uniform shape the daily rollups have.
    static let recordsAsDaily = """
        SELECT strftime('%Y-%m-%d', ts_ms / 1000, 'unixepoch') AS day, COALESCE(user_name, '') AS user_name, COALESCE(route, '') AS route,
               COALESCE(target, '') AS target, COALESCE(model, '') AS model, 1 AS requests, CASE WHEN status >= 400 THEN 1 ELSE 0 END AS errors,
               input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, COALESCE(cost_micro_usd, 0) AS cost_micro_usd,
               CASE WHEN cost_micro_usd IS NULL THEN 1 ELSE 0 END AS unpriced
        FROM usage_records
        """

    static let rollupSQL = """
        INSERT INTO usage_daily (day, user_name, route, target, model, requests, errors, input_tokens, output_tokens, cache_read_tokens,
                                 cache_write_tokens, cost_micro_usd, unpriced)
        SELECT day, user_name, route, target, model, SUM(requests), SUM(errors), SUM(input_tokens), SUM(output_tokens), SUM(cache_read_tokens),
               SUM(cache_write_tokens), SUM(cost_micro_usd), SUM(unpriced)
        FROM (\(recordsAsDaily) WHERE ts_ms < ?) GROUP BY day, user_name, route, target, model
        ON CONFLICT (day, user_name, route, target, model) DO UPDATE SET
            requests = usage_daily.requests + excluded.requests, errors = usage_daily.errors + excluded.errors,
            input_tokens = usage_daily.input_tokens + excluded.input_tokens, output_tokens = usage_daily.output_tokens + excluded.output_tokens,
            cache_read_tokens = usage_daily.cache_read_tokens + excluded.cache_read_tokens,
            cache_write_tokens = usage_daily.cache_write_tokens + excluded.cache_write_tokens,
            cost_micro_usd = usage_daily.cost_micro_usd + excluded.cost_micro_usd, unpriced = usage_daily.unpriced + excluded.unpriced
        """

    /// Grouped totals over recent rows and older daily rollups. Binds: since ms, until ms,
    /// [user], since day, until day, [user].
    static func reportSQL(_ q: UsageQuery) -> String {
        let userFilter = q.user == nil ? "" : " AND user_name = ?"
        let groups = q.groupBy.map { "\(column($0)) AS g_\($0.rawValue)" }
        let select = (groups + [
            "SUM(requests) AS requests", "SUM(errors) AS errors", "SUM(input_tokens) AS input_tokens", "SUM(output_tokens) AS output_tokens",
            "SUM(cache_read_tokens) AS cache_read_tokens", "SUM(cache_write_tokens) AS cache_write_tokens",
            "SUM(cost_micro_usd) AS cost_micro_usd", "SUM(unpriced) AS unpriced",
        ]).joined(separator: ", ")
        let groupBy = q.groupBy.isEmpty ? "" : " GROUP BY " + q.groupBy.map(column).joined(separator: ", ")
        let orderBy = q.groupBy.isEmpty ? "" : " ORDER BY " + (q.groupBy.contains(.day) ? "day, " : "") + "cost_micro_usd DESC, requests DESC"
        return """
            SELECT \(select) FROM (
                SELECT * FROM (\(recordsAsDaily) WHERE ts_ms >= ? AND ts_ms < ?\(userFilter))
                UNION ALL
                SELECT day, user_name, route, target, model, requests, errors, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
                       cost_micro_usd, unpriced FROM usage_daily WHERE day >= ? AND day < ?\(userFilter)
            ) AS rows\(groupBy)\(orderBy)
            """
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
