/// What response translation needs to know about the request it answers.
public struct ResponseContext: Sendable {
    /// The model string the client sent; echoed back in responses.
    public var clientModel: String
    public var toolNames: ToolNameMap
    public var stopSequences: [String]
    /// The local estimate of the prompt, used when an upstream reports no usage.
    public var estimatedInputTokens: Int
    /// Secrets to blank out of any upstream text relayed to the client (the upstream key).
    public var redactions: [String] = []

    public init(clientModel: String, toolNames: ToolNameMap = ToolNameMap(), stopSequences: [String] = [], estimatedInputTokens: Int = 0) {
        self.clientModel = clientModel
        self.toolNames = toolNames
        self.stopSequences = stopSequences
        self.estimatedInputTokens = estimatedInputTokens
    }

    public init(request: MessagesRequest, estimatedInputTokens: Int) {
        self.init(
            clientModel: request.model, toolNames: ToolNameMap(tools: request.tools),
            stopSequences: request.stopSequences, estimatedInputTokens: estimatedInputTokens)
    }
}

/// finish_reason → stop_reason (translation-spec §3.5).
enum StopReason {
    static func resolve(
        finishReason: String?, nativeFinishReason: String?, matchedStop: String?,
        sawToolUse: Bool, refusal: Bool, stopSequences: [String]
    ) -> (reason: String, sequence: String?) {
        if finishReason == "length" { return ("max_tokens", nil) }
        if sawToolUse { return ("tool_use", nil) }
        if finishReason == "content_filter" || refusal { return ("refusal", nil) }
        if finishReason == "tool_calls" || finishReason == "function_call" { return ("end_turn", nil) }
        if let matchedStop, stopSequences.contains(matchedStop) { return ("stop_sequence", matchedStop) }
        if nativeFinishReason == "stop_sequence", stopSequences.count == 1 { return ("stop_sequence", stopSequences[0]) }
        return ("end_turn", nil)
    }
}
