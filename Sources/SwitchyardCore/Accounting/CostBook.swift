import SwitchyardWire

/// Prices per route target, compiled once per snapshot: the cost of a finished request and the
/// worst-case cost a budget reserves at admission.
public struct CostBook: Sendable {
    struct Entry: Sendable {
        var source: CostSource
        var price: Price?
    }

    /// By target label (`provider:model`).
    private let entries: [String: Entry]

    public init(config: GatewayConfig) {
        var entries: [String: Entry] = [:]
        for route in config.routes {
            for target in route.targets {
                guard let provider = config.provider(named: target.provider) else { continue }
                entries[target.label] = Entry(source: provider.cost, price: provider.prices.price(for: target.model))
            }
        }
        self.entries = entries
    }

    /// The cost of a request that ended: the upstream's reported cost where the provider says
    /// `cost: upstream` and one came, else the price table, else unknown (nil). A request with
    /// no usage (refused, failed before an answer) cost nothing.
    public func cost(target: String?, usage: Usage?) -> (micro: Int64?, source: String?) {
        guard let usage else { return (0, nil) }
        guard let target, let entry = entries[target] else { return (nil, nil) }
        if entry.source == .upstream, let reported = usage.upstreamCostMicroUSD { return (reported, "upstream") }
        if let price = entry.price { return (price.costMicroUSD(usage), "prices") }
        return (nil, nil)
    }

    /// Whether a target has no price (its cost can only come from the upstream, if at all).
    public func isUnpriced(_ target: String) -> Bool { entries[target]?.price == nil }

    /// The most a request can cost on any of the route's targets: the prompt estimate at the
    /// input price plus the effective max_tokens at the output price, rounded up.
    public func worstCase(route: Route, estimatedInputTokens: Int, maxTokens: Int) -> Int64 {
        var worst: Int64 = 0
        for target in route.targets {
            guard let price = entries[target.label]?.price else { continue }
            let output = min(max(maxTokens, 0), target.maxTokens ?? Int.max, Usage.maxTokens)
            let input = min(max(estimatedInputTokens, 0), Usage.maxTokens)
            let pico = Int64(input) * price.input + Int64(output) * price.output
            worst = max(worst, (pico + 999_999) / 1_000_000)
        }
        return worst
    }
}
