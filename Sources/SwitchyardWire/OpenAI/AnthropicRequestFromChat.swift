/// Translates a Chat Completions request into an Anthropic Messages body for a `kind: anthropic`
/// upstream (translation-spec §7; every choice the spec leaves open is in
/// docs/openai-front-door.md). Pure: no I/O, no clock.
public enum AnthropicRequestFromChat {
    /// `max_tokens` when the client asked for none (Anthropic requires one).
    public static let defaultMaxTokens = 4096
    /// The system text that stands in for `response_format: json_object`.
    public static let jsonObjectInstruction = "Respond with a single JSON object and nothing else."
    /// The user turn put before a conversation that starts with the assistant.
    public static let openingUserText = "."

    /// The Anthropic body. Throws for content this direction cannot carry (a `file_id`, a file
    /// that is not a PDF, an image URL that is neither `data:` nor http(s)).
    public static func encode(_ request: ChatCompletionRequest, upstreamModel: String, maxTokensCap: Int?) throws(RequestValidationError) -> [UInt8] {
        JSONWriter.encode(.object(try body(request, upstreamModel: upstreamModel, maxTokensCap: maxTokensCap)), capacity: 1024)
    }

    public static func body(_ request: ChatCompletionRequest, upstreamModel: String, maxTokensCap: Int?) throws(RequestValidationError) -> JSONObject {
        var walk = ChatMessageWalk()
        for (i, message) in request.messages.enumerated() {
            try walk.add(message, index: i)
        }
        if case .jsonObject? = request.responseFormat {
            walk.system.append(textBlock(jsonObjectInstruction))
        }
        // Anthropic refuses thinking with a forced tool, and in a tool loop wants the assistant
        // turn to start with a signed thinking block that an OpenAI client never has: no thinking.
        let forcedTool = request.toolChoice != nil && request.toolChoice != .auto && request.toolChoice != .disabled
        let (maxTokens, thinkingBudget) = limits(request, cap: maxTokensCap, thinking: !forcedTool && !walk.endsInToolLoop)

        var o = JSONObject()
        o.append("model", .string(upstreamModel))
        o.append("max_tokens", .int(Int64(maxTokens)))
        if !walk.system.isEmpty { o.append("system", .array(walk.system)) }
        o.append("messages", .array(walk.messages()))
        if request.stream { o.append("stream", .bool(true)) }
        if let budget = thinkingBudget {
            o.append("thinking", .object(["type": .string("enabled"), "budget_tokens": .int(Int64(budget))]))
            // Anthropic refuses temperature and a top_p under 0.95 with thinking on.
            if let p = request.topP, p >= 0.95 { o.append("top_p", .double(p)) }
        } else {
            if let t = request.temperature { o.append("temperature", .double(min(max(t, 0), 1))) }
            if let p = request.topP { o.append("top_p", .double(p)) }
        }
        let stops = request.stop.filter { !$0.allSatisfy(\.isWhitespace) }
        if !stops.isEmpty { o.append("stop_sequences", .array(stops.map { .string($0) })) }
        if let user = request.endUser { o.append("metadata", .object(["user_id": .string(user)])) }
        if !request.tools.isEmpty {
            o.append("tools", .array(request.tools.map(tool)))
            if let choice = toolChoice(request) { o.append("tool_choice", .object(choice)) }
        }
        if case .jsonSchema(let schema)? = request.responseFormat {
            o.append("output_config", .object(["format": .object(["type": .string("json_schema"), "schema": .object(schema)])]))
        }
        return o
    }

    /// `max_tokens` and the thinking budget: the client's max (or 4096) capped by the target;
    /// with thinking, a max not above the budget becomes budget + the client's max (or 4096),
    /// capped again. A cap that leaves no room above the minimum budget turns thinking off.
    static func limits(_ request: ChatCompletionRequest, cap: Int?, thinking: Bool) -> (maxTokens: Int, budget: Int?) {
        let requested = request.maxTokens ?? defaultMaxTokens
        var maxTokens = cap.map { min(requested, $0) } ?? requested
        guard thinking, let effort = request.reasoningEffort, var budget = ChatCompletionRequest.effortBudgets[effort] else { return (maxTokens, nil) }
        if maxTokens <= budget {
            maxTokens = budget.addingSaturated(requested)
            if let cap { maxTokens = min(maxTokens, cap) }
        }
        if maxTokens <= budget { budget = maxTokens - 1 }
        return budget >= 1024 ? (maxTokens, budget) : (maxTokens, nil)
    }

    static func tool(_ t: ChatTool) -> JSONValue {
        var o = JSONObject()
        o.append("name", .string(t.name))
        if let d = t.description { o.append("description", .string(d)) }
        o.append("input_schema", .object(t.parameters ?? ["type": .string("object"), "properties": .object(JSONObject())]))
        return .object(o)
    }

    /// `tool_choice`, with `parallel_tool_calls: false` folded in (not into `none`).
    static func toolChoice(_ request: ChatCompletionRequest) -> JSONObject? {
        let noParallel = request.parallelToolCalls == false
        var o: JSONObject
        switch request.toolChoice {
        case nil:
            guard noParallel else { return nil }
            o = ["type": .string("auto")]
        case .auto?: o = ["type": .string("auto")]
        case .required?: o = ["type": .string("any")]
        case .disabled?: return ["type": .string("none")]
        case .function(let name)?: o = ["type": .string("tool"), "name": .string(name)]
        }
        if noParallel { o.append("disable_parallel_tool_use", .bool(true)) }
        return o
    }

    static func textBlock(_ text: String) -> JSONValue {
        .object(["type": .string("text"), "text": .string(text)])
    }
}

/// The message walk of §7: system and developer text hoisted, tool results gathered into one
/// user turn, same-role turns merged, empty turns dropped.
struct ChatMessageWalk {
    var system: [JSONValue] = []
    private var turns: [(role: String, blocks: [JSONValue])] = []

    mutating func add(_ message: ChatMessage, index: Int) throws(RequestValidationError) {
        switch message.role {
        case .system, .developer:
            system += texts(message.content)
        case .user:
            append("user", try userBlocks(message.content, index: index))
        case .assistant:
            var blocks = texts(message.content)
            for call in message.toolCalls {
                blocks.append(
                    .object([
                        "type": .string("tool_use"), "id": .string(AnthropicPassthrough.sanitize(call.id)),
                        "name": .string(call.name), "input": .object(Self.input(call.arguments)),
                    ]))
            }
            append("assistant", blocks)
        case .tool, .function:
            var result: JSONObject = [
                "type": .string("tool_result"),
                "tool_use_id": .string(AnthropicPassthrough.sanitize(message.toolCallID ?? "")),
            ]
            switch message.content {
            case .text(let s): result.append("content", .string(s))
            case .parts:
                let blocks = texts(message.content)
                if !blocks.isEmpty { result.append("content", .array(blocks)) }
            case .none: break
            }
            append("user", [.object(result)])
        }
    }

    /// Whether the conversation ends with tool results (the model is mid tool loop).
    var endsInToolLoop: Bool {
        guard let last = turns.last, last.role == "user", let first = last.blocks.first else { return false }
        return first["type"]?.stringValue == "tool_result"
    }

    /// The turns, with a user turn first when the conversation starts with the assistant.
    func messages() -> [JSONValue] {
        var out: [JSONValue] = []
        out.reserveCapacity(turns.count + 1)
        if turns.first?.role == "assistant" {
            out.append(.object(["role": .string("user"), "content": .array([AnthropicRequestFromChat.textBlock(AnthropicRequestFromChat.openingUserText)])]))
        }
        for turn in turns {
            out.append(.object(["role": .string(turn.role), "content": .array(turn.blocks)]))
        }
        return out
    }

    private mutating func append(_ role: String, _ blocks: [JSONValue]) {
        guard !blocks.isEmpty else { return }
        if let last = turns.indices.last, turns[last].role == role {
            turns[last].blocks += blocks
        } else {
            turns.append((role, blocks))
        }
    }

    /// Non-empty text of a string or of `text` parts (refusals dropped).
    private func texts(_ content: ChatContent) -> [JSONValue] {
        switch content {
        case .none: return []
        case .text(let s): return s.isEmpty ? [] : [AnthropicRequestFromChat.textBlock(s)]
        case .parts(let parts):
            return parts.compactMap { part in
                if case .text(let s) = part, !s.isEmpty { return AnthropicRequestFromChat.textBlock(s) }
                return nil
            }
        }
    }

    private func userBlocks(_ content: ChatContent, index: Int) throws(RequestValidationError) -> [JSONValue] {
        guard case .parts(let parts) = content else { return texts(content) }
        var out: [JSONValue] = []
        out.reserveCapacity(parts.count)
        for (j, part) in parts.enumerated() {
            let path = "messages[\(index)].content[\(j)]"
            switch part {
            case .text(let s):
                if !s.isEmpty { out.append(AnthropicRequestFromChat.textBlock(s)) }
            case .imageURL(let url):
                out.append(.object(["type": .string("image"), "source": .object(try Self.imageSource(url, path: path + ".image_url.url"))]))
            case .file(let data, _):
                guard let data else {
                    throw RequestValidationError(
                        path: path + ".file", problem: "a file_id cannot be sent to an Anthropic-protocol upstream; send the PDF as file_data")
                }
                guard let (mediaType, base64) = Self.dataURL(data), mediaType == "application/pdf" else {
                    throw RequestValidationError(
                        path: path + ".file.file_data", problem: "expected a data:application/pdf;base64,… URL (only PDF files are supported)")
                }
                out.append(
                    .object([
                        "type": .string("document"),
                        "source": .object([
                            "type": .string("base64"), "media_type": .string(mediaType), "data": .string(base64),
                        ]),
                    ]))
            case .refusal:
                break
            }
        }
        return out
    }

    static func imageSource(_ url: String, path: String) throws(RequestValidationError) -> JSONObject {
        if let (mediaType, data) = dataURL(url) {
            return ["type": .string("base64"), "media_type": .string(mediaType), "data": .string(data)]
        }
        let lower = url.prefix(8).lowercased()
        guard lower.hasPrefix("https://") || lower.hasPrefix("http://") else {
            throw RequestValidationError(path: path, problem: "expected a data:<type>;base64,… URL or an http(s) URL")
        }
        return ["type": .string("url"), "url": .string(url)]
    }

    /// `data:<media type>;base64,<data>` → (media type, data).
    static func dataURL(_ url: String) -> (String, String)? {
        guard url.hasPrefix("data:"), let comma = url.firstIndex(of: ",") else { return nil }
        let header = url[url.index(url.startIndex, offsetBy: 5)..<comma]
        guard header.hasSuffix(";base64") else { return nil }
        let mediaType = String(header.dropLast(7))
        guard !mediaType.isEmpty else { return nil }
        return (mediaType, String(url[url.index(after: comma)...]))
    }

    /// Tool-call arguments as the `input` object: the parsed arguments when they are a JSON
    /// object, else `{}`.
    static func input(_ arguments: String) -> JSONObject {
        guard let parsed = try? JSONParser.parse(Array(arguments.utf8)), case .object(let o) = parsed else { return JSONObject() }
        return o
    }
}
