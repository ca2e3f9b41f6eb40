import Foundation
import SwitchyardWire

/// Logger stage (outermost): turns any error into the envelope of the client's protocol and writes one
/// access-log line per request — when the reply is complete, or for a stream when it ends, so
/// the line has the final status, tokens and latencies.
public struct AccessLogStage: Stage {
    let sink: AccessLogSink
    let format: LoggingSettings.Format
    let verbose: Bool
    /// Upstream keys and provider header values, redacted from verbose bodies.
    let secrets: [String]
    static let verboseBodyLimit = 4096
    /// The requested model is the client's text: a log line or ledger row keeps at most this much of it.
    static let maxRecordedModelLength = 200

    let costs: CostBook?
    let accounting: Accounting?
    let metrics: Metrics

    public init(
        sink: AccessLogSink, format: LoggingSettings.Format, verbose: Bool, metrics: Metrics, secrets: [String] = [],
        costs: CostBook? = nil, accounting: Accounting? = nil
    ) {
        self.metrics = metrics
        self.sink = sink
        self.format = format
        self.verbose = verbose
        self.secrets = secrets
        self.costs = costs
        self.accounting = accounting
    }

    public func handle(_ call: Call, context: CallContext, next: Next) async throws -> Reply {
        let stats = context.stats
        if let request = try? call.parsed() {
            stats.requestedModel = request.model
            stats.stream = request.stream
        }
        stats.route = call.route?.name
        var reply: Reply
        do {
            reply = try await next(call, context)
        } catch let error as GatewayError {
            stats.errorType = error.type.rawValue
            reply = .error(error, requestID: context.requestID, inbound: call.endpoint.inboundProtocol)
            if error.status >= 500 {
                context.logger.warning("request failed", metadata: ["request_id": .string(context.requestID), "error": .string(error.message)])
            }
        } catch is CancellationError {
            // The client went away before the reply started (499, as nginx logs it).
            stats.errorType = "client_disconnected"
            write(call: call, status: 499, stats: stats, context: context)
            throw CancellationError()
        }
        switch reply.body {
        case .bytes(let body):
            stats.markFirstByte()
            write(call: call, status: reply.status, stats: stats, context: context, responseBody: verbose ? body : nil)
        case .stream(let stream):
            let status = reply.status
            reply.body = .stream(
                stream.observed { _ in
                    self.write(call: call, status: status, stats: stats, context: context)
                })
        }
        return reply
    }

    func write(call: Call, status: Int, stats: CallStats, context: CallContext, responseBody: [UInt8]? = nil) {
        let now = MonotonicClock.nanos()
        let latency = now &- stats.startNanos
        let upstream = stats.upstreamNanos
        let usage = stats.usage
        if call.endpoint != .countTokens {
            metrics.request(
                route: stats.route ?? "", target: stats.target ?? "", status: status, user: stats.user ?? "anonymous",
                durationNanos: latency, ttfbNanos: stats.firstByteNanos, inputTokens: usage?.totalInputTokens, outputTokens: usage?.outputTokens,
                endpoint: call.endpoint.rawValue)
            if let target = stats.target, upstream > 0 { metrics.upstreamWait(target: target, nanos: upstream) }
        }
        let cost = costs.map { stats.cost($0) }
        if call.endpoint != .countTokens, status != 401, let accounting {
            record(call: call, status: status, stats: stats, context: context, cost: cost, accounting: accounting, latency: latency)
        }
        var o = JSONObject()
        o.append("time", .string(Timestamps.nowWithMillis()))
        o.append("request_id", .string(context.requestID))
        o.append("endpoint", .string(call.endpoint.rawValue))
        o.append("user", stats.user.map { .string($0) } ?? .null)
        o.append("route", stats.route.map { .string($0) } ?? .null)
        o.append("model", stats.requestedModel.map { .string(String($0.prefix(Self.maxRecordedModelLength))) } ?? .null)
        o.append("target", stats.target.map { .string($0) } ?? .null)
        o.append("attempts", .array(stats.attempts.map { .string($0) }))
        o.append("stream", .bool(stats.stream))
        o.append("status", .int(Int64(status)))
        o.append("error_type", stats.errorType.map { .string($0) } ?? .null)
        o.append("latency_ms", .double(Self.ms(latency)))
        o.append("ttfb_ms", stats.firstByteNanos.map { .double(Self.ms($0)) } ?? .null)
        o.append("input_tokens", usage.map { .int(Int64($0.totalInputTokens)) } ?? .null)
        o.append("output_tokens", usage.map { .int(Int64($0.outputTokens)) } ?? .null)
        if let micro = cost.flatMap({ $0.micro }) { o.append("cost_usd", .double(Money.dollars(micro))) }
        // Time not spent waiting on the upstream; unknown when the client left mid-request.
        let overhead: JSONValue = stats.errorType == "client_disconnected" ? .null : .double(Self.ms(latency > upstream ? latency - upstream : 0))
        o.append("overhead_ms", overhead)
        // Bodies only for requests that passed authentication: a refused client's input is not
        // worth a log line's worth of disk, and may be an attack.
        if verbose, status != 401 {
            if let request = try? call.parsed() {
                o.append("request_body", .string(redacted(JSONWriter.encode(.object(request.raw)), call: call)))
            }
            if let responseBody { o.append("response_body", .string(redacted(responseBody, call: call))) }
        }
        switch format {
        case .json:
            sink.write(line: JSONWriter.encode(.object(o)))
        case .text:
            let line = o.members.map { "\($0.key)=\(JSONWriter.encodeString($0.value))" }.joined(separator: " ")
            sink.write(line: Array(line.utf8))
        }
    }

    /// A body for the verbose log: the caller's token and every upstream secret replaced by
    /// `***` first, then cut at `verboseBodyLimit` (so no prefix of a secret survives the cut).
    func redacted(_ body: [UInt8], call: Call) -> String {
        let scrubbed = SecretScrubber.scrubAll(body, secrets: secrets + [call.credential?.exposedValue].compactMap { $0 })
        return String(decoding: String.cut(scrubbed, to: Self.verboseBodyLimit), as: UTF8.self)
    }

    /// The ledger row of a request that passed authentication (accounting.md "What is recorded"),
    /// and its spend and unpriced metrics.
    func record(
        call: Call, status: Int, stats: CallStats, context: CallContext, cost: (micro: Int64?, source: String?)?,
        accounting: Accounting, latency: UInt64
    ) {
        let usage = stats.usage
        let user = stats.user ?? "anonymous"
        if let micro = cost.flatMap({ $0.micro }) { accounting.metrics.spend(user: user, route: stats.route ?? "", microUSD: micro) }
        if usage != nil, cost.flatMap({ $0.micro }) == nil, let target = stats.target { accounting.metrics.unpricedRequest(target: target) }
        guard let ledger = accounting.ledger else { return }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        ledger.record(
            UsageRecord(
                timeMs: Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec / 1_000_000), requestID: context.requestID, instance: accounting.instance,
                user: stats.user, route: stats.route, endpoint: call.endpoint.rawValue,
                model: stats.requestedModel.map { String($0.prefix(Self.maxRecordedModelLength)) }, target: stats.target,
                attempts: stats.attempts, stream: stats.stream, status: status, errorType: stats.errorType,
                inputTokens: usage?.inputTokens ?? 0, outputTokens: usage?.outputTokens ?? 0, cacheReadTokens: usage?.cacheReadInputTokens ?? 0,
                cacheWriteTokens: usage?.cacheCreationInputTokens ?? 0, estimated: usage?.estimated ?? false,
                costMicroUSD: cost.flatMap { $0.micro }, costSource: cost?.source ?? nil, latencyMs: Self.ms(latency), ttfbMs: stats.firstByteNanos.map(Self.ms)
            ))
    }

    static func ms(_ nanos: UInt64) -> Double { (Double(nanos) / 1000).rounded() / 1000 }

}
