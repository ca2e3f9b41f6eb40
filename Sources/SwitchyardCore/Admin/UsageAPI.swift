import Foundation
import SwitchyardWire

/// `GET /v1/usage` and `GET /v1/usage/budget` (accounting.md "Reports"): a user token sees its
/// own usage and budgets; an admin token (`users[].admin`), or anyone in open mode, sees
/// everyone's. Parameters are checked and a bad one is a 400 naming it.
public enum UsageAPI {
    /// Who is asking: nil user means everyone's rows are visible.
    struct Caller {
        var user: User?
        var seesEveryone: Bool
    }

    static func caller(_ snapshot: GatewaySnapshot, _ credential: Secret?) -> Result<Caller, GatewayError> {
        switch snapshot.authenticator.authenticate(credential) {
        case .open: return .success(Caller(user: nil, seesEveryone: true))
        case .user(let user): return .success(Caller(user: user, seesEveryone: user.admin))
        case .rejected(let message): return .failure(.unauthenticated(message))
        }
    }

    /// `GET /v1/usage?since=&until=&group_by=`.
    public static func usage(
        _ snapshot: GatewaySnapshot, credential: Secret?, parameters: [String: String],
        now: Date = Date()
    ) async -> Result<[UInt8], GatewayError> {
        let who: Caller
        switch caller(snapshot, credential) {
        case .failure(let e): return .failure(e)
        case .success(let c): who = c
        }
        let query: UsageQuery
        switch parse(parameters, now: now) {
        case .failure(let e): return .failure(e)
        case .success(var q):
            if !who.seesEveryone { q.user = who.user?.name }
            query = q
        }
        let accounting = snapshot.state.accounting
        guard let store = accounting.store else {
            return .failure(.notFound("usage is not recorded: this gateway runs with state.url: off"))
        }
        await accounting.ledger?.flush()  // the answer includes everything that has ended
        let rows: [UsageReportRow]
        do {
            rows = try await store.report(query)
        } catch {
            return .failure(.overloaded("the usage ledger cannot be read (the gateway's log says why)"))
        }
        let data: [JSONValue] = rows.map { row in
            var o = JSONObject()
            for (g, key) in zip(query.groupBy, row.keys) { o.append(g.rawValue, .string(key)) }
            for member in totals(row.totals).members { o.append(member.key, member.value) }
            return .object(o)
        }
        var all = GroupUsage(key: "")
        for row in rows { all = all.adding(row.totals) }
        return .success(
            JSONWriter.encode(
                .object([
                    "since": .string(Timestamps.rfc3339(query.sinceMs / 1000)), "until": .string(Timestamps.rfc3339(query.untilMs / 1000)),
                    "user": query.user.map { .string($0) } ?? .null,
                    "group_by": .array(query.groupBy.map { .string($0.rawValue) }), "data": .array(data), "totals": .object(totals(all)),
                ])))
    }

    /// `GET /v1/usage/budget`: the caller's budgets (their own and their routes').
    public static func budget(_ snapshot: GatewaySnapshot, credential: Secret?, now: Date = Date()) async -> Result<[UInt8], GatewayError> {
        let who: Caller
        switch caller(snapshot, credential) {
        case .failure(let e): return .failure(e)
        case .success(let c): who = c
        }
        let seconds = Int64(now.timeIntervalSince1970)
        let scopes = budgetScopes(snapshot, user: who.user)
        let uses = await BudgetView.uses(snapshot, scopes, now: seconds)
        let list: [JSONValue] = scopes.map { scope in
            let use = uses[scope.key]!
            let colon = scope.key.firstIndex(of: ":")!
            return .object([
                "scope": .string(String(scope.key[..<colon])), "name": .string(String(scope.key[scope.key.index(after: colon)...])),
                "limit_usd": .double(Money.dollars(use.limitMicroUSD)), "spent_usd": .double(Money.dollars(use.spentMicroUSD)),
                "reserved_usd": .double(Money.dollars(use.reservedMicroUSD)),
                "remaining_usd": .double(Money.dollars(max(use.limitMicroUSD - use.spentMicroUSD - use.reservedMicroUSD, 0))),
                "period": .string(use.period), "resets_at": use.resetsAt.map { .string($0) } ?? .null,
            ])
        }
        return .success(JSONWriter.encode(.object(["user": who.user.map { .string($0.name) } ?? .null, "budgets": .array(list)])))
    }

    /// The user's budget (own or `limits.per_user`) and the budgets of the routes they may use.
    static func budgetScopes(_ snapshot: GatewaySnapshot, user: User?) -> [BudgetBook.Scope] {
        let config = snapshot.config
        var out: [BudgetBook.Scope] = []
        let name = user?.name ?? "anonymous"
        if let budget = user?.limits?.budget ?? config.defaultUserLimits?.budget {
            out.append(.init(key: "user:\(name)", label: "user \(name)", budget: budget))
        }
        for route in config.routes where user?.routes?.contains(route.name) ?? true {
            if let budget = route.limits?.budget { out.append(.init(key: "route:\(route.name)", label: "route \(route.name)", budget: budget)) }
        }
        return out
    }

    /// Parses `since`, `until` (a date `2026-12-01` — `until` then counts that whole day — or an
    /// RFC 3339 time) and `group_by` (a comma list of user, route, target, model, day).
    static func parse(_ p: [String: String], now: Date) -> Result<UsageQuery, GatewayError> {
        let nowMs = Int64(now.timeIntervalSince1970 * 1000)
        var since = nowMs - 30 * 86_400_000
        var until = nowMs + 1
        if let text = p["since"] {
            guard let ms = time(text, endOfDay: false) else { return .failure(.invalidRequest("since: expected a date (2026-12-01) or an RFC 3339 time")) }
            since = ms
        }
        if let text = p["until"] {
            guard let ms = time(text, endOfDay: true) else { return .failure(.invalidRequest("until: expected a date (2026-12-01) or an RFC 3339 time")) }
            until = ms
        }
        guard since <= until else { return .failure(.invalidRequest("since: must not be after until")) }
        var groups: [UsageGrouping] = []
        if let text = p["group_by"], !text.isEmpty {
            for name in text.split(separator: ",") {
                guard let g = UsageGrouping(rawValue: name.trimmingCharacters(in: .whitespaces)) else {
                    return .failure(.invalidRequest("group_by: unknown grouping \(quoted(String(name))) (expected user, route, target, model or day)"))
                }
                if !groups.contains(g) { groups.append(g) }
            }
        }
        return .success(UsageQuery(sinceMs: since, untilMs: until, groupBy: groups))
    }

    /// Milliseconds of `2026-12-01` (start, or end when `endOfDay`) or `2026-12-01T10:00:00Z`.
    static func time(_ text: String, endOfDay: Bool) -> Int64? {
        let parts = text.split(separator: "T", maxSplits: 1).map(String.init)
        let date = parts[0].split(separator: "-").compactMap { Int($0) }
        guard parts[0].count == 10, date.count == 3, (1970...9999).contains(date[0]), (1...12).contains(date[1]), (1...31).contains(date[2]) else { return nil }
        var fields = tm()
        fields.tm_year = Int32(date[0] - 1900)
        fields.tm_mon = Int32(date[1] - 1)
        fields.tm_mday = Int32(date[2])
        if parts.count == 1 {
            return (Int64(timegm(&fields)) + (endOfDay ? 86_400 : 0)) * 1000
        }
        var clock = parts[1]
        var offsetSeconds: Int64 = 0
        if clock.hasSuffix("Z") || clock.hasSuffix("z") {
            clock.removeLast()
        } else if clock.count > 6, let sign = clock.dropLast(5).last, sign == "+" || sign == "-" {
            // ±HH:MM
            let zone = clock.suffix(5).split(separator: ":").compactMap { Int64($0) }
            guard zone.count == 2, (0..<24).contains(zone[0]), (0..<60).contains(zone[1]) else { return nil }
            offsetSeconds = (zone[0] * 3600 + zone[1] * 60) * (sign == "+" ? 1 : -1)
            clock.removeLast(6)
        } else {
            return nil
        }
        let hms = clock.split(separator: ":").map { Double($0) }
        guard hms.count == 3, let h = hms[0], let m = hms[1], let s = hms[2], (0..<24).contains(h), (0..<60).contains(m), (0..<61).contains(s) else {
            return nil
        }
        fields.tm_hour = Int32(h)
        fields.tm_min = Int32(m)
        return (Int64(timegm(&fields)) - offsetSeconds) * 1000 + Int64((s * 1000).rounded())
    }

    static func totals(_ g: GroupUsage) -> JSONObject {
        [
            "requests": .int(Int64(g.requests)), "errors": .int(Int64(g.errors)), "input_tokens": .int(g.inputTokens),
            "output_tokens": .int(g.outputTokens), "cache_read_tokens": .int(g.cacheReadTokens), "cache_write_tokens": .int(g.cacheWriteTokens),
            "cost_usd": .double(Money.dollars(g.costMicroUSD)), "cost_micro_usd": .int(g.costMicroUSD), "unpriced": .int(Int64(g.unpriced)),
        ]
    }
}
