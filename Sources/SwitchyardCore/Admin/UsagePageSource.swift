import Foundation

/// Gathers what the usage page shows: the last 30 days from the ledger, every user's budget,
/// and the routes' live health.
enum UsagePageSource {
    static let days = 30

    static func data(_ snapshot: GatewaySnapshot, now: Date = Date()) async -> UsagePageData {
        let accounting = snapshot.state.accounting
        let seconds = Int64(now.timeIntervalSince1970)
        let today = BudgetPeriods.start(.day, now: seconds)
        let sinceMs = (today - Int64(days - 1) * 86_400) * 1000
        let untilMs = (today + 86_400) * 1000
        await accounting.ledger?.flush()
        let budgetScopes = snapshot.config.users.compactMap { user in
            UsageAPI.budgetScopes(snapshot, user: user).first { $0.key == "user:\(user.name)" }
        }
        let budgets = await BudgetView.uses(snapshot, budgetScopes, now: seconds)
        func report(_ groups: [UsageGrouping]) async -> [UsageReportRow] {
            guard let store = accounting.store else { return [] }
            return (try? await store.report(UsageQuery(sinceMs: sinceMs, untilMs: untilMs, groupBy: groups))) ?? []
        }
        let byDay = Dictionary(await report([.day]).map { ($0.keys[0], $0.totals) }, uniquingKeysWith: { a, _ in a })
        let dayList: [DaySpend] = (0..<days).map { i in
            let day = LedgerSchema.day(ms: sinceMs + Int64(i) * 86_400_000)
            return DaySpend(day: day, requests: byDay[day]?.requests ?? 0, costMicroUSD: byDay[day]?.costMicroUSD ?? 0)
        }
        var users: [UserUsage] = []
        var seen = Set<String>()
        for row in await report([.user]) {
            let name = row.keys[0].isEmpty ? "anonymous" : row.keys[0]
            seen.insert(name)
            users.append(UserUsage(usage: named(row.totals, name), budget: budgets["user:\(name)"]))
        }
        for user in snapshot.config.users where !seen.contains(user.name) {
            users.append(UserUsage(usage: GroupUsage(key: user.name), budget: budgets["user:\(user.name)"]))
        }
        let cooldowns = snapshot.state.cooldowns
        let monotonic = MonotonicClock.nanos()
        let health = snapshot.config.routes.flatMap { route in
            route.targets.map { t in
                TargetHealth(
                    route: route.name, target: t.label, coolingDown: cooldowns.isCooling(t.label, now: monotonic),
                    fallbacks: cooldowns.fallbackCount(t.label))
            }
        }
        return UsagePageData(
            generatedAt: Timestamps.rfc3339(seconds), instance: accounting.instance, configGeneration: snapshot.generation,
            configHash: snapshot.configTag, since: dayList.first?.day ?? "", until: dayList.last?.day ?? "", days: dayList, users: users,
            targets: await report([.target]).map { named($0.totals, $0.keys[0]) },
            routes: await report([.route]).map { named($0.totals, $0.keys[0]) }, health: health)
    }

    static func named(_ g: GroupUsage, _ key: String) -> GroupUsage {
        var copy = g
        copy.key = key.isEmpty ? "(none)" : key
        return copy
    }

}
