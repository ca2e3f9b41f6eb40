import Foundation
import SwitchyardWire

/// Limiter stage: per-user (`users[].limits`, else `limits.per_user`) and per-route (`routes[].limits`)
/// rpm, tpm, concurrency and budgets. Rate rejections are 429 rate_limit_error with `retry-after`
/// and the `anthropic-ratelimit-*` headers; a budget refusal is 402 billing_error with
/// `x-should-retry: false` (accounting.md). Admitted requests release their slot, settle their
/// token reservation and settle their budget reservation to the real cost when the reply (or
/// stream) ends. count_tokens is not limited.
public struct LimiterStage: Stage {
    let perUserDefault: Limits?
    let state: LimiterState
    let costs: CostBook
    let accounting: Accounting
    let clock: @Sendable () -> UInt64
    /// Unix seconds, for budget periods.
    let wallClock: @Sendable () -> Int64
    /// Limits shared with the other replicas (PostgreSQL); nil: this replica's own counters.
    let sharedLimits: SharedLimits?
    let whenSharedUnavailable: StateSettings.Unavailable

    public init(
        config: GatewayConfig, state: LimiterState, costs: CostBook? = nil, accounting: Accounting = .disabled(),
        clock: @escaping @Sendable () -> UInt64 = { MonotonicClock.nanos() },
        wallClock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) },
        sharedLimits: SharedLimits? = nil, whenSharedUnavailable: StateSettings.Unavailable = .local
    ) {
        self.sharedLimits = sharedLimits
        self.whenSharedUnavailable = whenSharedUnavailable
        perUserDefault = config.defaultUserLimits
        self.state = state
        self.costs = costs ?? CostBook(config: config)
        self.accounting = accounting
        self.clock = clock
        self.wallClock = wallClock
    }

    public func handle(_ call: Call, context: CallContext, next: Next) async throws -> Reply {
        guard call.endpoint != .countTokens else { return try await next(call, context) }
        let request = try call.parsed()
        let userName = context.user?.name ?? "anonymous"
        var scopes: [LimiterState.Scope] = []
        if let limits = context.user?.limits ?? perUserDefault {
            scopes.append(.init(key: "user:\(userName)", limits: limits, label: "user \"\(userName)\""))
        }
        if let route = call.route, let limits = route.limits {
            scopes.append(.init(key: "route:\(route.name)", limits: limits, label: "route \"\(route.name)\""))
        }
        let budgets = budgetScopes(user: context.user, userName: userName, route: call.route)
        guard !scopes.isEmpty || !budgets.isEmpty else { return try await next(call, context) }
        let reserve = call.estimatedInputTokens.addingSaturated(min(max(request.maxTokens ?? 0, 0), 4096))
        if let sharedLimits {
            if let reply = try await handleShared(
                sharedLimits, call: call, context: context, next: next, scopes: scopes, budgets: budgets, reserve: reserve, userName: userName)
            {
                return reply
            }
            // PostgreSQL does not answer and `state.unavailable` is `local`: this replica's own counters.
        }
        let ticket: LimiterState.Ticket
        do {
            ticket = try state.admit(scopes, tokens: reserve, now: clock())
        } catch {
            accounting.metrics.limiterRejection(user: userName, route: call.route?.name ?? "", limit: error.limit)
            if let (needed, limit) = error.neverFits {
                throw Self.tooLargeForTPM(scope: error.scope, needed: needed, limit: limit, headers: error.headers)
            }
            let seconds = Int(error.retryAfterNanos.addingSaturated(999_999_999) / 1_000_000_000)
            throw GatewayError.rateLimited(
                "rate limit exceeded: \(error.limit) limit of \(error.scope); retry in \(seconds)s",
                retryAfterSeconds: max(seconds, 1), headers: error.headers)
        }
        let budgetTicket: BudgetBook.Ticket?  // settled once, from whichever task ends the reply
        if !budgets.isEmpty, let route = call.route {
            let now = wallClock()
            await accounting.prepare(budgets, now: now)
            let worst = costs.worstCase(route: route, estimatedInputTokens: call.estimatedInputTokens, maxTokens: request.maxTokens ?? 0)
            do {
                budgetTicket = try accounting.budgets.admit(budgets, reserve: worst, now: now)
            } catch {
                state.finish(ticket, actualTokens: 0)
                accounting.metrics.limiterRejection(user: userName, route: route.name, limit: "budget")
                throw GatewayError.budgetExceeded(error.message)
            }
        } else {
            budgetTicket = nil
        }
        let stats = context.stats
        let settle: @Sendable () -> Void = {
            state.finish(ticket, actualTokens: stats.usage?.totalTokens)
            if let budgetTicket { self.settle(budgetTicket, scopes: budgets, stats: stats, user: userName) }
        }
        var out = try await Self.forward(call, context: context, next: next, settle: settle)
        out.headers += ticket.headers
        return out
    }

    /// A request larger than a whole tpm limit: it can never be admitted, so the client is told
    /// not to retry it.
    static func tooLargeForTPM(scope: String, needed: Int, limit: Int, headers: [(String, String)] = []) -> GatewayError {
        .rateLimited(
            "request too large for the tpm limit of \(scope): it needs about \(needed) tokens (prompt estimate plus up to 4096 output), more than the whole limit of \(limit) tokens per minute; shorten the prompt or lower max_tokens",
            retryAfterSeconds: nil, headers: headers + [("x-should-retry", "false")])
    }

    /// Runs the rest of the pipeline and calls `settle` once when the reply is over: at once for
    /// a complete body or an error, at the end of a stream otherwise.
    static func forward(_ call: Call, context: CallContext, next: Next, settle: @escaping @Sendable () -> Void) async throws -> Reply {
        let reply: Reply
        do {
            reply = try await next(call, context)
        } catch {
            settle()
            throw error
        }
        var out = reply
        switch reply.body {
        case .bytes: settle()
        case .stream(let stream): out.body = .stream(stream.observed { _ in settle() })
        }
        return out
    }

    /// The budgets that apply: the user's own (else `limits.per_user`'s) and the route's.
    func budgetScopes(user: User?, userName: String, route: Route?) -> [BudgetBook.Scope] {
        var out: [BudgetBook.Scope] = []
        if let budget = user?.limits?.budget ?? perUserDefault?.budget {
            out.append(.init(key: "user:\(userName)", label: "user \(userName)", budget: budget))
        }
        if let route, let budget = route.limits?.budget {
            out.append(.init(key: "route:\(route.name)", label: "route \(route.name)", budget: budget))
        }
        return out
    }

    func settle(_ ticket: BudgetBook.Ticket, scopes: [BudgetBook.Scope], stats: CallStats, user: String) {
        let actual = stats.cost(costs).micro ?? 0
        let budgets = Dictionary(scopes.map { ($0.key, $0.budget) }, uniquingKeysWith: { a, _ in a })
        for (key, ratio, crossed) in accounting.budgets.settle(ticket, actual: actual, budgets: budgets) {
            if key.hasPrefix("user:") { accounting.metrics.budgetUsed(user: user, ratio: ratio) }
            if crossed {
                accounting.logger.warning("budget warning: \(key) has used \(Int(ratio * 100))% of its budget", metadata: ["scope": .string(key)])
            }
        }
    }
}
