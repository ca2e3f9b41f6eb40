import Foundation
import SwitchyardWire

/// `switchyard usage`: reads the ledger straight from the store (the gateway may be running; the
/// SQLite file is in WAL mode) and renders totals per group and budget use per user as a table,
/// JSON or CSV.
public enum UsageReport {
    public enum Format: String, Sendable, CaseIterable { case table, json, csv }

    public struct Options: Sendable {
        public var since: String?
        public var until: String?
        public var by: [String]
        public var format: Format
        public init(since: String?, until: String?, by: [String], format: Format) {
            self.since = since
            self.until = until
            self.by = by
            self.format = format
        }
    }

    /// The report text, or a message saying what is wrong.
    public static func run(config: GatewayConfig, options: Options, now: Date = Date()) async -> Result<String, GatewayError> {
        var parameters: [String: String] = [:]
        parameters["since"] = options.since
        parameters["until"] = options.until
        if !options.by.isEmpty { parameters["group_by"] = options.by.joined(separator: ",") }
        let query: UsageQuery
        switch UsageAPI.parse(parameters, now: now) {
        case .failure(let e): return .failure(e)
        case .success(let q): query = q
        }
        let store: any UsageStore
        let path: String
        switch config.state.backend {
        case .off:
            return .failure(.invalidRequest("state.url is off: no usage is recorded"))
        case .sqlite(let file):
            guard FileManager.default.fileExists(atPath: file) else {
                return .failure(.notFound("no ledger at \(file) yet (the gateway creates it on its first start)"))
            }
            store = SQLiteUsageStore(path: file)
            path = file
        case .postgres(let url):
            guard let pg = PostgresUsageStore(url: url) else { return .failure(.invalidRequest("state.url is not a usable PostgreSQL URL")) }
            store = pg
            path = GatewayServer.withoutPassword(url)
        }
        let result = await report(store: store, query: query, config: config, format: options.format, now: now, path: path)
        await store.close()
        return result
    }

    static func report(
        store: any UsageStore, query: UsageQuery, config: GatewayConfig, format: Format, now: Date,
        path: String
    ) async -> Result<String, GatewayError> {
        do {
            let rows = try await store.report(query)
            let seconds = Int64(now.timeIntervalSince1970)
            var budgets: [(String, BudgetUse)] = []
            for user in config.users {
                guard let budget = user.limits?.budget ?? config.defaultUserLimits?.budget else { continue }
                let start = BudgetPeriods.start(budget.period, now: seconds)
                let spent = try await store.spend(user: user.name, route: nil, sinceMs: start * 1000)
                budgets.append(
                    (
                        user.name,
                        BudgetUse(
                            limitMicroUSD: budget.limitMicroUSD, spentMicroUSD: spent, reservedMicroUSD: 0,
                            period: budget.period.rawValue,
                            resetsAt: BudgetPeriods.reset(budget.period, now: seconds).map(Timestamps.rfc3339))
                    ))
            }
            return .success(render(rows, query: query, budgets: budgets, format: format))
        } catch {
            return .failure(.internalError("cannot read the ledger at \(path): \(error)"))
        }
    }

    static let columns = ["requests", "errors", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "cost_usd", "unpriced"]

    static func values(_ g: GroupUsage) -> [String] {
        [
            String(g.requests), String(g.errors), String(g.inputTokens), String(g.outputTokens), String(g.cacheReadTokens),
            String(g.cacheWriteTokens), decimal(g.costMicroUSD), String(g.unpriced),
        ]
    }

    /// Exact six-decimal dollars.
    static func decimal(_ micro: Int64) -> String {
        let m = micro.magnitude
        return (micro < 0 ? "-" : "") + "\(m / 1_000_000).\(Money.pad(m % 1_000_000, 6))"
    }

    static func render(_ rows: [UsageReportRow], query: UsageQuery, budgets: [(String, BudgetUse)], format: Format) -> String {
        let groups = query.groupBy.map(\.rawValue)
        var total = GroupUsage(key: "total")
        for row in rows { total = total.adding(row.totals) }
        switch format {
        case .json:
            let data: [JSONValue] = rows.map { row in
                var o = JSONObject()
                for (g, k) in zip(groups, row.keys) { o.append(g, .string(k)) }
                for m in UsageAPI.totals(row.totals).members { o.append(m.key, m.value) }
                return .object(o)
            }
            let budgetList: [JSONValue] = budgets.map { name, use in
                .object([
                    "user": .string(name), "limit_usd": .double(Money.dollars(use.limitMicroUSD)), "spent_usd": .double(Money.dollars(use.spentMicroUSD)),
                    "period": .string(use.period), "resets_at": use.resetsAt.map { .string($0) } ?? .null,
                ])
            }
            return String(
                decoding: JSONWriter.encode(
                    .object([
                        "since": .string(Timestamps.rfc3339(query.sinceMs / 1000)), "until": .string(Timestamps.rfc3339(query.untilMs / 1000)),
                        "group_by": .array(groups.map { .string($0) }), "data": .array(data), "totals": .object(UsageAPI.totals(total)),
                        "budgets": .array(budgetList),
                    ])), as: UTF8.self)
        case .csv:
            var lines = [(groups + columns).joined(separator: ",")]
            for row in rows { lines.append((row.keys.map(csv) + values(row.totals)).joined(separator: ",")) }
            return lines.joined(separator: "\n")
        case .table:
            var table = [groups + columns]
            for row in rows { table.append(row.keys.map { $0.isEmpty ? "-" : $0 } + values(row.totals)) }
            table.append((groups.isEmpty ? [] : ["total"] + Array(repeating: "", count: groups.count - 1)) + values(total))
            var out = "usage \(Timestamps.rfc3339(query.sinceMs / 1000)) – \(Timestamps.rfc3339(query.untilMs / 1000))\n"
            out += align(table)
            if !budgets.isEmpty {
                out +=
                    "\n\nbudgets\n"
                    + align(
                        [["user", "spent", "limit", "used", "period", "resets"]]
                            + budgets.map { name, use in
                                let ratio = use.limitMicroUSD > 0 ? Double(use.spentMicroUSD) / Double(use.limitMicroUSD) : 1
                                return [
                                    name, Money.format(use.spentMicroUSD), Money.format(use.limitMicroUSD), "\(Int((ratio * 100).rounded()))%",
                                    use.period, use.resetsAt ?? "never",
                                ]
                            })
            }
            return out
        }
    }

    static func csv(_ field: String) -> String {
        field.contains(",") || field.contains("\"") || field.contains("\n") ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
    }

    static func align(_ rows: [[String]]) -> String {
        let widths = (0..<(rows.first?.count ?? 0)).map { c in rows.map { $0.indices.contains(c) ? $0[c].count : 0 }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { c, cell in cell.padding(toLength: widths[c], withPad: " ", startingAt: 0) }.joined(separator: "  ")
                .trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n")
    }
}
