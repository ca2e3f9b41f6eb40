/// Things a valid config may still get wrong, said by `check` and at start: a budget that can
/// reach a target whose cost is unknown counts that target's requests as free, and one that can
/// reach a target with no price cannot reserve its worst case, so concurrent requests there can
/// overshoot it.
public enum ConfigWarnings {
    public static func all(_ config: GatewayConfig) -> [String] {
        unpricedBudgets(config) + unreservableBudgets(config)
    }

    /// Budgeted scopes that reach targets priced only by the upstream's reported cost.
    static func unreservableBudgets(_ config: GatewayConfig) -> [String] {
        let upstreamOnly = { (route: Route) -> [String] in
            route.targets.filter { t in
                guard let p = config.provider(named: t.provider) else { return false }
                return p.prices.price(for: t.model) == nil && p.cost == .upstream && p.kind == .openai && p.dialect == .openrouter
            }.map(\.label)
        }
        let budgeted =
            config.routes.contains { $0.limits?.budget != nil } || config.defaultUserLimits?.budget != nil
            || config.users.contains { $0.limits?.budget != nil }
        guard budgeted else { return [] }
        let targets = Array(Set(config.routes.flatMap(upstreamOnly))).sorted()
        guard !targets.isEmpty else { return [] }
        return [
            "budgets reach targets with no price (\(targets.joined(separator: ", "))): their cost is known only when a reply ends, so admission cannot reserve it and concurrent requests can overshoot a budget; add prices for them"
        ]
    }

    /// Every budgeted user or route that can reach a target with no price and no upstream cost.
    static func unpricedBudgets(_ config: GatewayConfig) -> [String] {
        let unpriced = { (route: Route) -> [String] in
            route.targets.filter { t in
                guard let p = config.provider(named: t.provider) else { return false }
                let upstreamReportsCost = p.cost == .upstream && p.kind == .openai && p.dialect == .openrouter
                return p.prices.price(for: t.model) == nil && !upstreamReportsCost
            }.map(\.label)
        }
        var out: [String] = []
        for route in config.routes where route.limits?.budget != nil {
            let targets = unpriced(route)
            if !targets.isEmpty {
                out.append("route \(route.name) has a budget but reaches unpriced targets (\(targets.joined(separator: ", "))): their requests count as $0")
            }
        }
        var users = config.users.filter { ($0.limits?.budget ?? config.defaultUserLimits?.budget) != nil }.map { ($0.name, $0.routes) }
        if config.users.isEmpty, config.defaultUserLimits?.budget != nil { users = [("anonymous", nil)] }
        for (name, allowed) in users {
            let targets = config.routes.filter { allowed?.contains($0.name) ?? true }.flatMap(unpriced)
            if !targets.isEmpty {
                out.append(
                    "user \(name) has a budget but can reach unpriced targets (\(Array(Set(targets)).sorted().joined(separator: ", "))): their requests count as $0"
                )
            }
        }
        return out
    }
}
