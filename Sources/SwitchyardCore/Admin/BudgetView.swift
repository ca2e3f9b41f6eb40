/// What budgets show in `/v1/usage/budget` and on the page: with replicas, the shared figures
/// from PostgreSQL (every replica's spend and reservations); otherwise, or for a scope no request
/// used yet this period, this gateway's book (read back from the ledger).
enum BudgetView {
    static func uses(_ snapshot: GatewaySnapshot, _ scopes: [BudgetBook.Scope], now seconds: Int64) async -> [String: BudgetUse] {
        let accounting = snapshot.state.accounting
        await accounting.prepare(scopes, now: seconds)
        let sharedFigures = await snapshot.state.sharedLimits?.budgetUse(scopes, nowMs: seconds.multipliedSaturated(by: 1000)) ?? [:]
        var out: [String: BudgetUse] = [:]
        for scope in scopes {
            var use = accounting.budgets.use(scope, now: seconds)
            if let figures = sharedFigures[scope.key] {
                use.spentMicroUSD = figures.spent
                use.reservedMicroUSD = figures.reserved
            }
            out[scope.key] = use
        }
        return out
    }
}
