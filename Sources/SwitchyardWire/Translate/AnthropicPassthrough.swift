/// Builds the body for an Anthropic-native upstream (`kind: anthropic`): the client's request as
/// it came, with the routed model, the max_tokens clamp, thinking blocks that Anthropic could not
/// verify removed (empty or `gw1:` signatures) and tool ids sanitised to `^[a-zA-Z0-9_-]+$`.
public enum AnthropicPassthrough {
    public static func body(_ request: MessagesRequest, upstreamModel: String, maxTokensCap: Int?) -> [UInt8] {
        var o = request.raw
        o["model"] = .string(upstreamModel)
        if let cap = maxTokensCap, let requested = request.maxTokens, requested > cap {
            o["max_tokens"] = .int(Int64(cap))
        }
        if case .array(let messages)? = o["messages"] {
            o["messages"] = .array(messages.map(cleanMessage))
        }
        return JSONWriter.encode(.object(o), capacity: 1024)
    }

    static func cleanMessage(_ message: JSONValue) -> JSONValue {
        guard case .object(var m) = message, case .array(let blocks)? = m["content"] else { return message }
        var kept: [JSONValue] = []
        kept.reserveCapacity(blocks.count)
        for block in blocks {
            guard case .object(var b) = block else { continue }
            switch b["type"]?.stringValue {
            case "thinking":
                if ReasoningCodec.isForeign(b["signature"]?.stringValue ?? "") { continue }
            case "redacted_thinking":
                if ReasoningCodec.isForeign(b["data"]?.stringValue ?? "") { continue }
            case "tool_use":
                if let id = b["id"]?.stringValue { b["id"] = .string(sanitize(id)) }
            case "tool_result":
                if let id = b["tool_use_id"]?.stringValue { b["tool_use_id"] = .string(sanitize(id)) }
            default: break
            }
            kept.append(.object(b))
        }
        m["content"] = .array(kept)
        return .object(m)
    }

    static func sanitize(_ id: String) -> String {
        guard !id.utf8.allSatisfy(RequestDecoder.isToolNameByte) else { return id }
        return String(decoding: id.utf8.map { RequestDecoder.isToolNameByte($0) ? $0 : UInt8(ascii: "_") }, as: UTF8.self)
    }
}
