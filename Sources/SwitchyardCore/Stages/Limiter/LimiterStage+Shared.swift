import SwitchyardWire

/// The limiter with replicas (scale-out.md): every rate limit and budget of the request checked
/// and taken in PostgreSQL in one round trip, given back when the reply ends.
extension LimiterStage {
    /// The reply, or nil when the shared state does not answer and the replica's own counters
    /// should decide (`state.unavailable: local`).
    func handleShared(
        _ sharedLimits: SharedLimits, call: Call, context: CallContext, next: Next, scopes: [LimiterState.Scope], budgets: [BudgetBook.Scope],
        reserve: Int, userName: String
    ) async throws -> Reply? {
        if let never = Self.neverFits(scopes, tokens: reserve) {
            accounting.metrics.limiterRejection(user: userName, route: call.route?.name ?? "", limit: "tpm")
            throw Self.tooLargeForTPM(scope: never.label, needed: reserve, limit: never.limit)
        }
        let request = try call.parsed()
        var worst: Int64 = 0
        if let route = call.route, !budgets.isEmpty {
            worst = costs.worstCase(route: route, estimatedInputTokens: call.estimatedInputTokens, maxTokens: request.maxTokens ?? 0)
        }
        let now = wallClock()
        switch await sharedLimits.admit(scopes, tokens: reserve, budgets: budgets, reserveMicro: worst, nowMs: now.multipliedSaturated(by: 1000)) {
        case .unavailable:
            guard whenSharedUnavailable == .closed else { return nil }
            throw GatewayError.overloaded(
                "the gateway's shared state (PostgreSQL) is unavailable and state.unavailable is closed: rate-limited and budgeted requests are refused until it is back; retry shortly"
            )
        case .refused(let refusal):
            accounting.metrics.limiterRejection(user: userName, route: call.route?.name ?? "", limit: refusal.kind)
            if refusal.kind == "budget", let scope = budgets.first(where: { $0.key == refusal.scopeKey }) {
                throw GatewayError.budgetExceeded(BudgetBook.message(scope, spent: refusal.used, reserve: worst, now: now))
            }
            let label = scopes.first { $0.key == refusal.scopeKey }?.label ?? refusal.scopeKey
            let seconds = Int((max(refusal.retryAfterMs, 1) + 999) / 1000)
            throw GatewayError.rateLimited(
                "rate limit exceeded: \(refusal.kind) limit of \(label) (\(refusal.limit), shared by every replica); retry in \(seconds)s",
                retryAfterSeconds: max(seconds, 1), headers: [])
        case .admitted(let ticket):
            let stats = context.stats
            let costs = self.costs
            let settle: @Sendable () -> Void = {
                sharedLimits.settle(ticket, tokens: stats.usage?.totalTokens, costMicro: stats.cost(costs).micro ?? 0)
            }
            return try await Self.forward(call, context: context, next: next, settle: settle)
        }
    }

    /// The first scope whose whole tpm limit is smaller than the request.
    static func neverFits(_ scopes: [LimiterState.Scope], tokens: Int) -> (label: String, limit: Int)? {
        for scope in scopes {
            if let tpm = scope.limits.tpm, tokens > tpm { return (scope.label, tpm) }
        }
        return nil
    }
}
