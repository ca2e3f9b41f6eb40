import Foundation
import NIOCore
import SwitchyardWire

/// Translator stage: turns the client's request into the target's upstream request, and the
/// upstream reply back into the client's protocol. Four pairs: Anthropic clients to OpenAI
/// targets (translated) and to Anthropic targets (passed through), Chat Completions clients to
/// OpenAI targets (passed through, `TranslatorStage+Chat`) and to Anthropic targets (translated).
/// Upstream errors become `GatewayError.upstream` so the mapper can fall back; a streamed reply
/// is returned only once its first event is ready (the commit point), so every failure before it
/// is still a real HTTP error.
public struct TranslatorStage: Stage {
    let stripBillingHeader: Bool
    /// Every upstream secret of the config: blanked out of every byte relayed to the client.
    let secrets: [String]
    /// Built once per snapshot from `secrets`.
    let scrubber: SecretScrubber
    /// Error bodies are read up to this size.
    static let maxErrorBodyBytes = 64 << 10

    /// Unix seconds, for the `created` of Chat Completions replies.
    let wallClock: @Sendable () -> Int64
    /// The gateway's open streams (keep-alives, idle timeouts, shutdown); nil in tests that need none.
    let streams: StreamRegistry?

    /// Chat Completions clients of Anthropic targets get the thinking as `reasoning_content`.
    let reasoningContent: Bool

    public init(
        stripBillingHeader: Bool, reasoningContent: Bool = false, secrets: [String] = [], streams: StreamRegistry? = nil,
        wallClock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }
    ) {
        self.stripBillingHeader = stripBillingHeader
        self.reasoningContent = reasoningContent
        self.secrets = secrets
        self.streams = streams
        self.wallClock = wallClock
        scrubber = SecretScrubber(secrets: secrets)
    }

    public func handle(_ call: Call, context: CallContext, next: Next) async throws -> Reply {
        guard let resolved = context.target else { throw GatewayError.internalError("translator reached without a target") }
        switch try call.parsed() {
        case .messages(let request): return try await handleMessages(request, call: call, resolved: resolved, context: context, next: next)
        case .chat(let request): return try await handleChat(request, call: call, resolved: resolved, context: context, next: next)
        }
    }

    /// Anthropic Messages clients.
    func handleMessages(_ request: MessagesRequest, call: Call, resolved: ResolvedTarget, context: CallContext, next: Next) async throws -> Reply {
        let provider = resolved.provider
        var upstreamCall = call
        switch provider.kind {
        case .openai:
            var builder = ChatRequestBuilder(
                options: TranslationOptions(
                    dialect: provider.dialect, upstreamModel: resolved.target.model,
                    maxTokensCap: resolved.target.maxTokens, stripBillingHeader: stripBillingHeader, requestCost: provider.cost == .upstream))
            let body = builder.encode(request)
            for note in builder.notes { context.logger.debug("translation note", metadata: ["request_id": .string(context.requestID), "note": .string(note)]) }
            upstreamCall.upstream = UpstreamRequest(url: provider.endpointURL, headers: [], body: body, stream: request.stream)
        case .anthropic:
            let body = AnthropicPassthrough.body(request, upstreamModel: resolved.target.model, maxTokensCap: resolved.target.maxTokens)
            upstreamCall.upstream = UpstreamRequest(url: provider.endpointURL, headers: [], body: body, stream: request.stream)
        }
        let raw = try await send(upstreamCall, resolved: resolved, context: context, next: next)
        var responseContext = ResponseContext(request: request, estimatedInputTokens: call.estimatedInputTokens)
        responseContext.redactions = secrets
        switch (provider.kind, request.stream) {
        case (.openai, false):
            let body = try await Self.collect(raw, limit: provider.maxResponseBytes, target: resolved.label, truncate: false)
            do {
                let result = try ChatResponseTranslator.translate(body: body, context: responseContext)
                context.stats.usage = result.usage
                return .json(200, scrubber.scrubbingAll(result.body))
            } catch {
                throw GatewayError.upstream(error.redacting(secrets), target: resolved.label)
            }
        case (.openai, true):
            return try await TranslatingStreamRelay.start(
                raw: raw, translator: ChatStreamTranslator(context: responseContext), stats: context.stats,
                target: resolved.label, idleTimeoutNanos: UInt64(provider.timeouts.idle.nanoseconds),
                streams: streams, inbound: .anthropic, eventLoop: context.streamLoop)
        case (.anthropic, false):
            let body = try await Self.collect(raw, limit: provider.maxResponseBytes, target: resolved.label, truncate: false)
            do {
                context.stats.usage = try AnthropicPassthroughRelay.checkMessage(body)
            } catch {
                throw GatewayError.upstream(error.redacting(secrets), target: resolved.label)
            }
            return .json(200, scrubber.scrubbingAll(body))
        case (.anthropic, true):
            return try await AnthropicPassthroughRelay.start(
                raw: raw, stats: context.stats, target: resolved.label, secrets: secrets,
                idleTimeoutNanos: UInt64(provider.timeouts.idle.nanoseconds), streams: streams,
                eventLoop: context.streamLoop)
        }
    }

    /// Sends the upstream request; a non-2xx answer becomes `GatewayError.upstream`. Every key a
    /// target can use is one of the config's secrets (GatewayConfig.upstreamSecrets), blanked
    /// from what is quoted.
    func send(_ upstreamCall: Call, resolved: ResolvedTarget, context: CallContext, next: Next) async throws -> Reply {
        let raw: Reply
        do {
            raw = try await next(upstreamCall, context)
        } catch let error as GatewayError {
            throw error.redactingUpstream(secrets)
        }
        guard (200..<300).contains(raw.status) else {
            // Scrubbed before it is parsed or quoted, so no cut can leave a prefix of a secret.
            let body = scrubber.scrubbingAll(try await Self.collect(raw, limit: Self.maxErrorBodyBytes, target: resolved.label, truncate: true))
            throw GatewayError.upstream(
                UpstreamErrorParser.failure(status: raw.status, body: body, retryAfter: raw.header("retry-after")).redacting(secrets),
                target: resolved.label)
        }
        return raw
    }

    /// Reads a whole upstream body up to `limit` bytes; past it, an error (or a truncated body
    /// when `truncate`, for error bodies that are only quoted).
    static func collect(_ reply: Reply, limit: Int, target: String, truncate: Bool) async throws -> [UInt8] {
        switch reply.body {
        case .bytes(let b): return b
        case .stream(let stream):
            var out: [UInt8] = []
            do {
                while let chunk = try await stream.next() {
                    if out.count + chunk.readableBytes > limit {
                        if truncate {
                            out.append(contentsOf: chunk.readableBytesView.prefix(limit - out.count))
                            stream.finish(.abandoned)
                            return out
                        }
                        stream.finish(.abandoned)
                        throw GatewayError.upstream(
                            UpstreamFailure(
                                kind: .badResponse, upstreamStatus: 200,
                                message: "upstream response is larger than max_response_bytes (\(limit) bytes)"), target: target)
                    }
                    out.append(contentsOf: chunk.readableBytesView)
                }
            } catch let failure as UpstreamFailure {
                stream.finish(.abandoned)
                throw GatewayError.upstream(failure, target: target)
            } catch {
                stream.finish(.abandoned)
                throw error
            }
            stream.finish(.completed)
            return out
        }
    }
}
