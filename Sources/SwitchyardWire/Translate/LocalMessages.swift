/// Messages the gateway answers itself, without an upstream.
public enum LocalMessages {
    /// The answer to `max_tokens: 0` (a cache pre-warm, translation-spec §2.1): empty content,
    /// stop_reason max_tokens, the estimated input tokens. JSON, or the SSE events when streamed.
    public static func emptyMessage(model: String, estimatedInputTokens: Int, stream: Bool) -> [UInt8] {
        let usage = Usage(inputTokens: estimatedInputTokens)
        let id = Identifiers.messageID()
        guard stream else {
            return JSONWriter.encode(
                .object([
                    "id": .string(id), "type": .string("message"), "role": .string("assistant"), "model": .string(model),
                    "content": .array([]), "stop_reason": .string("max_tokens"), "stop_sequence": .null, "usage": usage.json,
                ]))
        }
        var events = AnthropicEventWriter()
        events.messageStart(id: id, model: model)
        events.messageDelta(stopReason: "max_tokens", stopSequence: nil, usage: usage)
        events.messageStop()
        return events.bytes
    }
}
