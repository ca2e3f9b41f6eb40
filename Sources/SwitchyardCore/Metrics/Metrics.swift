import NIOConcurrencyHelpers
import Prometheus

/// The gateway's Prometheus metrics (`switchyard_*`, config.md "Metrics"). Labels carry route,
/// target, user names, statuses and limit kinds only — never a token or key.
public final class Metrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    static let latencyBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .seconds(2.5), .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(120),
    ]
    private let inflight: Gauge
    private let openStreams: Gauge
    private let generationGauge: Gauge
    private let cooling: Gauge

    public init() {
        inflight = registry.makeGauge(name: "switchyard_inflight_requests", help: "Requests being handled")
        openStreams = registry.makeGauge(name: "switchyard_open_streams", help: "Streamed replies being written")
        generationGauge = registry.makeGauge(name: "switchyard_config_generation", help: "Generation of the config in use")
        cooling = registry.makeGauge(name: "switchyard_targets_in_cooldown", help: "Targets skipped by the fallback circuit breaker")
        _ = registry.makeCounter(name: "switchyard_config_reloads_total", labels: [("result", "success")], help: "Config reloads")
        _ = registry.makeCounter(name: "switchyard_config_reloads_total", labels: [("result", "failure")], help: "Config reloads")
    }

    public func requestStarted() { inflight.increment() }
    public func requestFinished() { inflight.decrement() }
    public func streamOpened() { openStreams.increment() }
    public func streamClosed() { openStreams.decrement() }
    public func generation(_ value: Int) { generationGauge.set(Double(value)) }
    public func targetsInCooldown(_ value: Int) { cooling.set(Double(value)) }

    public func reloads(success: Bool) {
        registry.makeCounter(name: "switchyard_config_reloads_total", labels: [("result", success ? "success" : "failure")], help: "Config reloads").increment()
    }

    /// One finished request. Token counts below zero count as zero (a counter cannot go down).
    public func request(
        route: String, target: String, status: Int, user: String, durationNanos: UInt64, ttfbNanos: UInt64?,
        inputTokens: Int?, outputTokens: Int?, endpoint: String = "messages"
    ) {
        registry.makeCounter(
            name: "switchyard_requests_total",
            labels: [("route", route), ("target", target), ("status", String(status)), ("endpoint", endpoint)],
            help: "Requests by route, final target, status and endpoint (messages, chat_completions)"
        ).increment()
        registry.makeDurationHistogram(
            name: "switchyard_request_duration_seconds", labels: [("route", route)], buckets: Self.latencyBuckets,
            help: "Time from request to the end of the reply"
        ).recordNanoseconds(Int64(clamping: durationNanos))
        if let ttfbNanos {
            registry.makeDurationHistogram(
                name: "switchyard_time_to_first_byte_seconds", labels: [("route", route)], buckets: Self.latencyBuckets,
                help: "Time from request to the first byte sent to the client"
            ).recordNanoseconds(Int64(clamping: ttfbNanos))
        }
        if let inputTokens {
            registry.makeCounter(
                name: "switchyard_tokens_total", labels: [("user", user), ("route", route), ("direction", "input")],
                help: "Tokens by user, route and direction"
            ).increment(by: Int64(max(inputTokens, 0)))
        }
        if let outputTokens {
            registry.makeCounter(
                name: "switchyard_tokens_total", labels: [("user", user), ("route", route), ("direction", "output")],
                help: "Tokens by user, route and direction"
            ).increment(by: Int64(max(outputTokens, 0)))
        }
    }

    public func upstreamWait(target: String, nanos: UInt64) {
        registry.makeDurationHistogram(
            name: "switchyard_upstream_duration_seconds", labels: [("target", target)], buckets: Self.latencyBuckets,
            help: "Time spent waiting on the upstream"
        ).recordNanoseconds(Int64(clamping: nanos))
    }

    public func limiterRejection(user: String, route: String, limit: String) {
        registry.makeCounter(
            name: "switchyard_limiter_rejections_total", labels: [("user", user), ("route", route), ("limit", limit)],
            help: "Requests refused by the limiter"
        ).increment()
    }

    public func fallbackAttempt(route: String, target: String, reason: String) {
        registry.makeCounter(
            name: "switchyard_fallback_attempts_total", labels: [("route", route), ("target", target), ("reason", reason)],
            help: "Upstream attempts that failed over to a retry or the next target"
        ).increment()
    }

    /// Reads how many targets are cooling down when metrics are scraped (set at start).
    private let cooldownProbe = NIOLockedValueBox<(@Sendable () -> Int)?>(nil)

    public func setCooldownProbe(_ probe: @escaping @Sendable () -> Int) {
        cooldownProbe.withLockedValue { $0 = probe }
    }

    /// The Prometheus text exposition.
    public func render() -> [UInt8] {
        if let probe = cooldownProbe.withLockedValue({ $0 }) { targetsInCooldown(probe()) }
        return registry.emitToBuffer()
    }
}
