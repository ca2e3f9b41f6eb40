/// What translating an Anthropic reply back to Chat Completions needs to know of the request.
public struct ChatReplyContext: Sendable {
    /// The model the client asked for, echoed in every response and chunk.
    public var clientModel: String
    /// `created` of the response (unix seconds); passed in so translation stays pure.
    public var created: Int64
    /// Whether the client asked for the final usage chunk of a stream.
    public var includeUsage: Bool
    /// Whether thinking text goes out as the non-standard `reasoning_content`.
    public var reasoningContent: Bool
    /// The local prompt estimate, used when the upstream reports no usage.
    public var estimatedInputTokens: Int

    public init(clientModel: String, created: Int64, includeUsage: Bool = false, reasoningContent: Bool = false, estimatedInputTokens: Int = 0) {
        self.clientModel = clientModel
        self.created = created
        self.includeUsage = includeUsage
        self.reasoningContent = reasoningContent
        self.estimatedInputTokens = estimatedInputTokens
    }
}

/// Translates a non-streamed Anthropic Messages response into a `chat.completion`
/// (translation-spec §7). Pure.
public enum ChatResponseFromAnthropic {
    /// The chat completion and the usage it reports. Throws for an error or junk in a 2xx body.
    public static func translate(body: [UInt8], context: ChatReplyContext) throws(UpstreamFailure) -> (body: [UInt8], usage: Usage) {
        guard let json = try? JSONParser.parse(body) else {
            throw UpstreamFailure(kind: .badResponse, upstreamStatus: 200, message: "upstream sent an unreadable response")
        }
        if json["type"]?.stringValue == "error" || json["error"] != nil {
            throw UpstreamErrorParser.anthropicFailure(json["error"] ?? json)
        }
        guard json["type"]?.stringValue == "message", case .array(let blocks)? = json["content"] else {
            throw UpstreamFailure(kind: .badResponse, upstreamStatus: 200, message: "upstream response is not a message")
        }
        var text = ""
        var thinking = ""
        var toolCalls: [JSONValue] = []
        for block in blocks {
            switch block["type"]?.stringValue {
            case "text": text += block["text"]?.stringValue ?? ""
            case "thinking": thinking += block["thinking"]?.stringValue ?? ""
            case "tool_use":
                toolCalls.append(
                    .object([
                        "id": .string(block["id"]?.stringValue ?? ""), "type": .string("function"),
                        "function": .object([
                            "name": .string(block["name"]?.stringValue ?? ""),
                            "arguments": .string(String(decoding: JSONWriter.encode(block["input"] ?? .object(JSONObject())), as: UTF8.self)),
                        ]),
                    ]))
            default: break
            }
        }
        var usage = Usage()
        if let u = json["usage"] {
            usage.merge(anthropic: u)
        } else {
            usage = Usage.estimate(inputTokens: context.estimatedInputTokens, outputTokens: (text.utf8.count + 3) / 4)
        }
        var message: JSONObject = ["role": .string("assistant"), "content": text.isEmpty ? .null : .string(text), "refusal": .null]
        if !toolCalls.isEmpty { message.append("tool_calls", .array(toolCalls)) }
        if context.reasoningContent, !thinking.isEmpty { message.append("reasoning_content", .string(thinking)) }
        let out: JSONObject = [
            "id": .string(ChatChunks.completionID(json["id"]?.stringValue)),
            "object": .string("chat.completion"),
            "created": .int(context.created),
            "model": .string(context.clientModel),
            "choices": .array([
                .object([
                    "index": .int(0), "message": .object(message), "logprobs": .null,
                    "finish_reason": .string(ChatChunks.finishReason(json["stop_reason"]?.stringValue)),
                ])
            ]),
            "usage": usage.openAIJSON,
        ]
        return (JSONWriter.encode(.object(out), capacity: body.count + 256), usage)
    }
}

/// Shared pieces of the Chat Completions replies.
enum ChatChunks {
    /// `chatcmpl-<message id>`.
    static func completionID(_ messageID: String?) -> String {
        "chatcmpl-" + (messageID ?? Identifiers.messageID())
    }

    /// stop_reason → finish_reason (translation-spec §7).
    static func finishReason(_ stopReason: String?) -> String {
        switch stopReason {
        case "max_tokens", "model_context_window_exceeded": return "length"
        case "tool_use": return "tool_calls"
        case "refusal": return "content_filter"
        default: return "stop"
        }
    }
}

extension Usage {
    /// The OpenAI `usage` object: cached and cache-written tokens count in `prompt_tokens`.
    public var openAIJSON: JSONValue {
        let prompt = totalInputTokens
        var details: JSONObject = ["cached_tokens": .int(Int64(cacheReadInputTokens))]
        if cacheCreationInputTokens > 0 { details.append("cache_write_tokens", .int(Int64(cacheCreationInputTokens))) }
        return .object([
            "prompt_tokens": .int(Int64(prompt)), "completion_tokens": .int(Int64(outputTokens)),
            "total_tokens": .int(Int64(prompt.addingSaturated(outputTokens))), "prompt_tokens_details": .object(details),
        ])
    }
}
