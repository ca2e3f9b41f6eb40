import SwitchyardWire

/// Limiter stage: per-user (`users[].limits`, else `limits.per_user`) and per-route (`routes[].limits`)
/// rpm, tpm and concurrency. Rejections are 429 rate_limit_error with `retry-after` and the
/// `anthropic-ratelimit-*` headers; admitted requests release their slot and settle their token
/// reservation when the reply (or stream) ends. count_tokens is not limited.
public struct LimiterStage: Stage {
    let perUserDefault: Limits?
    let state: LimiterState
    let clock: @Sendable () -> UInt64

    public init(config: GatewayConfig, state: LimiterState, clock: @escaping @Sendable () -> UInt64 = { MonotonicClock.nanos() }) {
        perUserDefault = config.defaultUserLimits
        self.state = state
        self.clock = clock
    }

    public func handle(_ call: Call, context: CallContext, next: Next) async throws -> Reply {
        guard call.endpoint == .messages else { return try await next(call, context) }
        let request = try call.parsed()
        var scopes: [LimiterState.Scope] = []
        if let limits = context.user?.limits ?? perUserDefault {
            let name = context.user?.name ?? "anonymous"
            scopes.append(.init(key: "user:\(name)", limits: limits, label: "user \"\(name)\""))
        }
        if let route = call.route, let limits = route.limits {
            scopes.append(.init(key: "route:\(route.name)", limits: limits, label: "route \"\(route.name)\""))
        }
        guard !scopes.isEmpty else { return try await next(call, context) }
        let reserve = call.estimatedInputTokens.addingSaturated(min(max(request.maxTokens ?? 0, 0), 4096))
        let ticket: LimiterState.Ticket
        do {
            ticket = try state.admit(scopes, tokens: reserve, now: clock())
        } catch {
            Metrics.shared.limiterRejection(user: context.user?.name ?? "anonymous", route: call.route?.name ?? "", limit: error.limit)
            if let (needed, limit) = error.neverFits {
                throw GatewayError.rateLimited(
                    "request too large for the tpm limit of \(error.scope): it needs about \(needed) tokens (prompt estimate plus up to 4096 output), more than the whole limit of \(limit) tokens per minute; shorten the prompt or lower max_tokens",
                    retryAfterSeconds: nil, headers: error.headers + [("x-should-retry", "false")])
            }
            let seconds = Int(error.retryAfterNanos.addingSaturated(999_999_999) / 1_000_000_000)
            throw GatewayError.rateLimited("rate limit exceeded: \(error.limit) limit of \(error.scope); retry in \(seconds)s",
                                           retryAfterSeconds: max(seconds, 1), headers: error.headers)
        }
        let stats = context.stats
        let reply: Reply
        do {
            reply = try await next(call, context)
        } catch {
            state.finish(ticket, actualTokens: 0)
            throw error
        }
        var out = reply
        out.headers += ticket.headers
        switch reply.body {
        case .bytes:
            state.finish(ticket, actualTokens: stats.usage?.totalTokens)
        case .stream(let stream):
            out.body = .stream(stream.observed { _ in
                self.state.finish(ticket, actualTokens: stats.usage?.totalTokens)
            })
        }
        return out
    }
}
