import SwitchyardWire

/// A validated client request in the protocol it arrived in. Stages that only need the routing
/// facts (model, stream, max tokens) read them here; the translator picks the protocol pair.
public enum InboundRequest: Sendable {
    /// Anthropic Messages (`/v1/messages`, count_tokens).
    case messages(MessagesRequest)
    /// OpenAI Chat Completions (`/v1/chat/completions`).
    case chat(ChatCompletionRequest)

    public var model: String {
        switch self {
        case .messages(let r): return r.model
        case .chat(let r): return r.model
        }
    }

    public var stream: Bool {
        switch self {
        case .messages(let r): return r.stream
        case .chat(let r): return r.stream
        }
    }

    /// The client's output cap (Chat: `max_completion_tokens` ?? `max_tokens`).
    public var maxTokens: Int? {
        switch self {
        case .messages(let r): return r.maxTokens
        case .chat(let r): return r.maxTokens
        }
    }

    public var thinkingEnabled: Bool {
        switch self {
        case .messages(let r): return r.thinkingEnabled
        case .chat(let r): return r.thinkingEnabled
        }
    }

    /// The client's JSON object, as sent (for the verbose log).
    public var raw: JSONObject {
        switch self {
        case .messages(let r): return r.raw
        case .chat(let r): return r.raw
        }
    }

    /// The Messages request, for code that serves only `/v1/messages`.
    public var messagesRequest: MessagesRequest? {
        if case .messages(let r) = self { return r }
        return nil
    }

    /// The same request with its model replaced everywhere it is kept (a token sent as the model
    /// name must never be echoed or logged).
    func withModel(_ model: String) -> InboundRequest {
        switch self {
        case .messages(var r):
            r.model = model
            r.raw["model"] = .string(model)
            return .messages(r)
        case .chat(var r):
            r.model = model
            r.raw["model"] = .string(model)
            return .chat(r)
        }
    }

    /// The prompt-size estimate (translation-spec §6).
    func estimatedInputTokens(bodyBytes: Int) -> Int {
        switch self {
        case .messages(let r): return TokenEstimator.estimate(bodyBytes: bodyBytes, request: r)
        case .chat(let r): return TokenEstimator.estimate(bodyBytes: bodyBytes, mediaBytes: r.mediaBytes, mediaCount: r.mediaCount)
        }
    }
}
