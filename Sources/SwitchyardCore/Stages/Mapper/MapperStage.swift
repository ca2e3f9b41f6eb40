import SwitchyardWire

/// Mapper stage: answers count_tokens and `max_tokens: 0` locally, and sends messages to the
/// route's targets in order. It owns fallbacks: on a failure kind listed in `fallback.on` it
/// retries (`retries_per_target`, honouring Retry-After) and then moves to the next target;
/// targets that failed are skipped for `cooldown` (see `CooldownTable`). A reply that came back
/// has been committed to the client, so nothing is retried after it.
public struct MapperStage: Stage {
    let providers: [String: Provider]
    let policy: FallbackPolicy
    let cooldowns: CooldownTable
    let metrics: Metrics
    /// Longest Retry-After the mapper waits for before a same-target retry; longer ones move on.
    let maxRetryWaitNanos: UInt64 = 5_000_000_000
    /// Monotonic nanoseconds, for cooldowns (tests pass their own).
    let clock: @Sendable () -> UInt64

    public init(
        providers: [Provider], policy: FallbackPolicy, cooldowns: CooldownTable, metrics: Metrics = Metrics(),
        clock: @escaping @Sendable () -> UInt64 = { MonotonicClock.nanos() }
    ) {
        self.metrics = metrics
        self.clock = clock
        self.providers = Dictionary(providers.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        self.policy = policy
        self.cooldowns = cooldowns
    }

    public func handle(_ call: Call, context: CallContext, next: Next) async throws -> Reply {
        let request = try call.parsed()
        switch call.endpoint {
        case .countTokens:
            context.stats.usage = Usage(inputTokens: call.estimatedInputTokens)
            return .json(200, JSONWriter.encode(.object(["input_tokens": .int(Int64(call.estimatedInputTokens))])))
        case .messages, .chatCompletions:
            break
        }
        guard let route = call.route else { throw GatewayError.modelNotServed(request.model) }
        if request.maxTokens == 0, let messages = request.messagesRequest {
            return LocalReplies.emptyMessage(messages, estimate: call.estimatedInputTokens)
        }
        var lastError: GatewayError? = nil
        for target in candidates(route) {
            guard let provider = providers[target.provider] else { continue }
            // A target's own key wins; a target whose key variable is unset never borrows the
            // provider's key. A provider with no api_key at all is keyless (local servers).
            let missing = target.missingKeyVariable ?? (target.apiKey == nil ? provider.missingKeyVariable : nil)
            if let missing {
                lastError = .upstreamKeyMissing(provider: provider.name, variable: missing)
                context.stats.recordAttempt("\(target.label) no-key")
                continue
            }
            let key = target.apiKey ?? provider.apiKey
            var attemptContext = context
            attemptContext.target = ResolvedTarget(provider: provider, target: target, apiKey: key)
            context.stats.target = target.label
            var attempt = 0
            while true {
                do {
                    let reply = try await next(call, attemptContext)
                    cooldowns.recordSuccess(target.label)
                    context.stats.recordAttempt("\(target.label) \(reply.status)")
                    return reply
                } catch let error as GatewayError {
                    if Task.isCancelled { throw CancellationError() }  // the client went away: no fallback
                    guard let failure = error.upstreamFailure else { throw error }
                    context.stats.recordAttempt("\(target.label) \(failure.downstream.status) \(failure.kind.rawValue)")
                    lastError = error
                    guard policy.on.contains(failure.fallbackKind) else { throw error }
                    metrics.fallbackAttempt(route: route.name, target: target.label, reason: failure.fallbackKind.rawValue)
                    cooldowns.recordFallback(target.label)
                    if attempt < policy.retriesPerTarget, let wait = retryWait(failure, attempt: attempt) {
                        attempt += 1
                        try await Task.sleep(nanoseconds: wait)
                        continue
                    }
                    cooldowns.recordFailure(target.label, cooldownNanos: policy.cooldown.clampedNanoseconds, now: clock())
                    break
                }
            }
        }
        throw lastError ?? GatewayError.internalError("route \"\(route.name)\" has no usable target")
    }

    /// Targets in order, without those cooling down; when all are, the one that recovers first.
    func candidates(_ route: Route) -> [Target] {
        let now = clock()
        let open = route.targets.filter { cooldowns.admit($0.label, now: now) }
        if !open.isEmpty { return open }
        let soonest = route.targets.min { (cooldowns.cooldownEnd($0.label) ?? 0) < (cooldowns.cooldownEnd($1.label) ?? 0) }
        return soonest.map { [$0] } ?? []
    }

    /// Exponential backoff from 250 ms, or the upstream's Retry-After; nil (move on, do not wait
    /// here) when that is longer than 5 s or unusable.
    func retryWait(_ failure: UpstreamFailure, attempt: Int) -> UInt64? {
        let backoff = UInt64(250_000_000) << UInt64(min(attempt, 4))
        if failure.retryAfterUnusable { return nil }
        guard let seconds = failure.retryAfterSeconds else { return backoff }
        // Bounded by RetryAfter.maxSeconds, so the conversion cannot overflow.
        let wait = UInt64(min(max(seconds, 0), RetryAfter.maxSeconds) * 1e9)
        return wait <= maxRetryWaitNanos ? max(wait, backoff) : nil
    }
}

extension Duration {
    /// Whole nanoseconds, saturating at `Int64.max` (config ranges keep real values far below).
    var nanoseconds: Int64 {
        let (s, a) = components
        let (ns, overflow) = s.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return s < 0 ? 0 : .max }
        return max(ns.addingSaturated(a / 1_000_000_000), 0)
    }

    /// Whole nanoseconds as an unsigned count, never negative.
    var clampedNanoseconds: UInt64 { UInt64(nanoseconds) }
}

extension Int64 {
    func addingSaturated(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }
}
