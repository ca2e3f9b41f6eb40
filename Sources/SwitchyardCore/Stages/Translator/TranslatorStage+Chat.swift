import SwitchyardWire

/// Chat Completions clients (translation-spec §7, §7.1; docs/openai-front-door.md): to an OpenAI
/// target the body is passed through with the routed model (usage asked for on streams and hidden
/// again from clients that did not ask); to an Anthropic target request, response and stream are
/// translated.
extension TranslatorStage {
    func handleChat(_ request: ChatCompletionRequest, call: Call, resolved: ResolvedTarget, context: CallContext, next: Next) async throws -> Reply {
        let provider = resolved.provider
        var upstreamCall = call
        let body: [UInt8]
        switch provider.kind {
        case .openai:
            body = ChatPassthrough.body(request, upstreamModel: resolved.target.model, maxTokensCap: resolved.target.maxTokens)
        case .anthropic:
            do throws(RequestValidationError) {
                body = try AnthropicRequestFromChat.encode(request, upstreamModel: resolved.target.model, maxTokensCap: resolved.target.maxTokens)
            } catch {
                throw GatewayError.invalidRequest(error.description)
            }
        }
        upstreamCall.upstream = UpstreamRequest(url: provider.endpointURL, headers: [], body: body, stream: request.stream)
        let raw = try await send(upstreamCall, resolved: resolved, context: context, next: next)
        let idle = UInt64(provider.timeouts.idle.nanoseconds)
        switch (provider.kind, request.stream) {
        case (.openai, false):
            let body = try await Self.collect(raw, limit: provider.maxResponseBytes, target: resolved.label, truncate: false)
            do {
                context.stats.usage = try Self.checkCompletion(body, estimatedInputTokens: call.estimatedInputTokens)
            } catch {
                throw GatewayError.upstream(error.redacting(secrets), target: resolved.label)
            }
            return .json(200, scrubber.scrubbingAll(body))
        case (.openai, true):
            let filter = ChatChunkFilter(includeUsage: request.includeUsage, estimatedInputTokens: call.estimatedInputTokens)
            return try await TranslatingStreamRelay.start(
                raw: raw, translator: filter, stats: context.stats, target: resolved.label,
                idleTimeoutNanos: idle, secrets: secrets, streams: streams, inbound: .openAI, eventLoop: context.streamLoop)
        case (.anthropic, false):
            let body = try await Self.collect(raw, limit: provider.maxResponseBytes, target: resolved.label, truncate: false)
            do {
                let result = try ChatResponseFromAnthropic.translate(body: body, context: replyContext(request, call: call))
                context.stats.usage = result.usage
                return .json(200, scrubber.scrubbingAll(result.body))
            } catch {
                throw GatewayError.upstream(error.redacting(secrets), target: resolved.label)
            }
        case (.anthropic, true):
            let translator = ChatChunkTranslator(context: replyContext(request, call: call))
            return try await TranslatingStreamRelay.start(
                raw: raw, translator: translator, stats: context.stats, target: resolved.label,
                idleTimeoutNanos: idle, secrets: secrets, streams: streams, inbound: .openAI, eventLoop: context.streamLoop)
        }
    }

    func replyContext(_ request: ChatCompletionRequest, call: Call) -> ChatReplyContext {
        ChatReplyContext(
            clientModel: request.model, created: wallClock(), includeUsage: request.includeUsage, reasoningContent: reasoningContent,
            estimatedInputTokens: call.estimatedInputTokens)
    }

    /// Checks a non-streamed OpenAI-compatible answer is a completion (not an error or junk in a
    /// 200) and returns its usage, or the estimate when it reports none.
    static func checkCompletion(_ body: [UInt8], estimatedInputTokens: Int) throws(UpstreamFailure) -> Usage {
        let parsed = UpstreamErrorParser.trimmingLeadingWhitespace(body).withUnsafeBytes { try? JSONParser.parse($0) }
        guard let json = parsed else {
            throw UpstreamFailure(kind: .badResponse, upstreamStatus: 200, message: "upstream sent an unreadable response")
        }
        if let error = json["error"], !error.isNull { throw UpstreamErrorParser.failure(errorObject: error) }
        guard case .array? = json["choices"] else {
            throw UpstreamFailure(kind: .badResponse, upstreamStatus: 200, message: "upstream response is not a chat completion")
        }
        if let usage = Usage(openAI: json["usage"]) { return usage }
        let text = json["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue ?? ""
        return Usage.estimate(inputTokens: estimatedInputTokens, outputTokens: (text.utf8.count + 3) / 4)
    }
}
