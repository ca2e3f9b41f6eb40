import Prometheus

/// The accounting metrics (accounting.md "Reports"). User labels come only from configured
/// user names (or `anonymous`), so their number is bounded by the config.
extension Metrics {
    public func spend(user: String, route: String, microUSD: Int64) {
        guard microUSD > 0 else { return }
        registry.makeValueHistogramLessCounter(
            name: "switchyard_spend_usd_total", labels: [("user", user), ("route", route)],
            help: "Spend in USD by user and route", amount: Double(microUSD) / 1_000_000)
    }

    public func budgetUsed(user: String, ratio: Double) {
        registry.makeGauge(name: "switchyard_budget_used_ratio", labels: [("user", user)], help: "Spend over budget for the current period")
            .set(ratio.isFinite ? ratio : 0)
    }

    public func ledgerRecords(result: String, count: Int) {
        registry.makeCounter(name: "switchyard_ledger_records_total", labels: [("result", result)], help: "Usage records written or dropped")
            .increment(by: Int64(max(count, 0)))
    }

    public func ledgerBacklog(_ size: Int) {
        registry.makeGauge(name: "switchyard_ledger_backlog", help: "Usage records waiting to be written").set(Double(size))
    }

    /// `switchyard_state_up`: 1 while the shared state (PostgreSQL) answers, 0 while it does not.
    public func stateUp(_ up: Bool) {
        registry.makeGauge(name: "switchyard_state_up", help: "1 while the shared state store answers").set(Double(up ? 1 : 0))
    }

    public func unpricedRequest(target: String) {
        registry.makeCounter(
            name: "switchyard_unpriced_requests_total", labels: [("target", target)],
            help: "Requests whose cost is unknown (no price, no upstream cost)"
        ).increment()
    }
}

extension PrometheusCollectorRegistry {
    /// A counter of dollars: Prometheus counters in swift-prometheus take integers, so spend is
    /// kept as a float counter.
    func makeValueHistogramLessCounter(name: String, labels: [(String, String)], help: String, amount: Double) {
        makeCounter(name: name, labels: labels, help: help).increment(by: amount)
    }
}
