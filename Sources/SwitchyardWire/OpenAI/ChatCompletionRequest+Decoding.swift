/// Decoding and validation of a Chat Completions request body.
///
/// Rules: every field the gateway reads or translates is checked for type and range, with the
/// path in OpenAI's style (`messages[2].content[1].type`); `n` must be 1; content parts the gateway
/// cannot carry (`input_audio`, unknown types) are refused; unknown top-level keys are kept in
/// `raw` (an OpenAI-compatible upstream receives them, an Anthropic one does not).
extension ChatCompletionRequest {
    /// Parses and validates a raw body.
    public static func decode(body: UnsafeRawBufferPointer) throws(RequestValidationError) -> ChatCompletionRequest {
        let value: JSONValue
        do {
            value = try JSONParser.parse(body)
        } catch {
            throw RequestValidationError(path: "", problem: "invalid JSON body: \(error.description)")
        }
        return try decode(json: value)
    }

    public static func decode(body: [UInt8]) throws(RequestValidationError) -> ChatCompletionRequest {
        let result: Result<ChatCompletionRequest, RequestValidationError> = body.withUnsafeBytes { raw in
            do throws(RequestValidationError) { return .success(try decode(body: raw)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    public static func decode(json: JSONValue) throws(RequestValidationError) -> ChatCompletionRequest {
        guard case .object(let object) = json else {
            throw RequestValidationError(path: "", problem: "the request body must be a JSON object, not \(json.typeName)")
        }
        var decoder = RequestDecoder(path: FieldPath(bracketed: true))
        do {
            return try decoder.decodeChatRequest(object)
        } catch let error as RequestValidationError {
            throw error
        } catch {
            throw RequestValidationError(path: decoder.path.rendered, problem: "invalid value")
        }
    }
}

extension RequestDecoder {
    mutating func decodeChatRequest(_ o: JSONObject) throws -> ChatCompletionRequest {
        let model = try field("model") { d in try d.requiredString(o["model"], nonEmpty: true) }
        let messages = try field("messages") { d -> [ChatMessage] in
            guard let v = o["messages"] else { throw d.fail("field required") }
            let list = try d.array(v)
            if list.isEmpty { throw d.fail("at least one message is required") }
            var out: [ChatMessage] = []
            out.reserveCapacity(list.count)
            for (i, m) in list.enumerated() {
                out.append(try d.element(i) { d in try d.decodeChatMessage(m) })
            }
            return out
        }
        let stream = try field("stream") { d in try d.bool(o["stream"]) } ?? false
        let includeUsage = try field("stream_options") { d -> Bool in
            guard let v = o["stream_options"], !v.isNull else { return false }
            let so = try d.object(v)
            return try d.field("include_usage") { d in try d.bool(so["include_usage"]) } ?? false
        }
        let maxCompletion = try optionalCount("max_completion_tokens", o)
        let maxTokens = try optionalCount("max_tokens", o)
        _ = try field("n") { d -> Int? in
            guard let v = o["n"], !v.isNull else { return nil }
            let n = try d.integer(v, min: 1)
            guard n == 1 else { throw d.fail("only n = 1 is supported (one choice per request), got \(n)") }
            return n
        }
        // Any number: an Anthropic target gets it clamped to [0, 1] (§7), an OpenAI one decides itself.
        let temperature = try field("temperature") { d in try d.number(o["temperature"], range: nil) }
        let topP = try field("top_p") { d in try d.number(o["top_p"], range: 0...1) }
        let stop = try field("stop") { d -> [String] in
            guard let v = o["stop"], !v.isNull else { return [] }
            if case .string(let s) = v { return [s] }
            return try d.array(v).enumerated().map { i, s in try d.element(i) { d in try d.requiredString(s) } }
        }
        let user = try field("user") { d in try d.optionalString(o["user"]) }
        let safety = try field("safety_identifier") { d in try d.optionalString(o["safety_identifier"]) }
        let tools = try field("tools") { d -> [ChatTool] in
            guard let v = o["tools"], !v.isNull else { return [] }
            return try d.array(v).enumerated().map { i, t in try d.element(i) { d in try d.decodeChatTool(t) } }
        }
        let toolChoice = try field("tool_choice") { d in try d.decodeChatToolChoice(o["tool_choice"]) }
        let parallel = try field("parallel_tool_calls") { d in try d.bool(o["parallel_tool_calls"]) }
        let effort = try field("reasoning_effort") { d -> String? in
            guard let e = try d.optionalString(o["reasoning_effort"]) else { return nil }
            guard ChatCompletionRequest.effortBudgets[e] != nil || ChatCompletionRequest.effortsWithoutThinking.contains(e) else {
                throw d.fail("unknown reasoning effort \(quoted(e)) (expected none, minimal, low, medium, high, xhigh or max)")
            }
            return e
        }
        let format = try field("response_format") { d in try d.decodeResponseFormat(o["response_format"]) }
        return ChatCompletionRequest(
            model: model, messages: messages, stream: stream, includeUsage: includeUsage, maxTokens: maxCompletion ?? maxTokens,
            temperature: temperature, topP: topP, stop: stop, endUser: safety ?? user, tools: tools, toolChoice: toolChoice,
            parallelToolCalls: parallel, reasoningEffort: effort, responseFormat: format, mediaBytes: mediaBytes,
            mediaCount: mediaCount, raw: o)
    }

    mutating func optionalCount(_ key: String, _ o: JSONObject) throws -> Int? {
        try field(key) { d -> Int? in
            guard let v = o[key], !v.isNull else { return nil }
            return try d.integer(v, min: 1)
        }
    }

    mutating func decodeChatMessage(_ value: JSONValue) throws -> ChatMessage {
        let o = try object(value)
        let roleName = try field("role") { d in try d.requiredString(o["role"]) }
        guard let role = ChatMessage.Role(rawValue: roleName) else {
            throw fail(at: "role", "unknown role \(quoted(roleName)) (expected system, developer, user, assistant or tool)")
        }
        let content = try field("content") { d in try d.decodeChatContent(o["content"], role: role) }
        var toolCalls: [ChatToolCall] = []
        var toolCallID: String? = nil
        switch role {
        case .assistant:
            toolCalls = try field("tool_calls") { d -> [ChatToolCall] in
                guard let v = o["tool_calls"], !v.isNull else { return [] }
                return try d.array(v).enumerated().map { i, c in try d.element(i) { d in try d.decodeChatToolCall(c) } }
            }
            if toolCalls.isEmpty, let legacy = o["function_call"], !legacy.isNull {
                toolCalls = [try field("function_call") { d in try d.decodeFunction(legacy, id: nil) }]
            }
        case .tool:
            toolCallID = try field("tool_call_id") { d in try d.requiredString(o["tool_call_id"]) }
        case .function:
            toolCallID = try field("name") { d in try d.requiredString(o["name"]) }
        case .system, .developer, .user:
            break
        }
        return ChatMessage(role: role, content: content, toolCalls: toolCalls, toolCallID: toolCallID)
    }

    mutating func decodeChatContent(_ value: JSONValue?, role: ChatMessage.Role) throws -> ChatContent {
        guard let value, !value.isNull else {
            guard role == .assistant || role == .function else { throw fail("field required") }
            return .none
        }
        switch value {
        case .string(let s): return .text(s)
        case .array(let parts):
            var out: [ChatPart] = []
            out.reserveCapacity(parts.count)
            for (i, p) in parts.enumerated() {
                out.append(try element(i) { d in try d.decodeChatPart(p, role: role) })
            }
            return .parts(out)
        default:
            throw fail("expected a string or an array of content parts, got \(value.typeName)")
        }
    }

    mutating func decodeChatPart(_ value: JSONValue, role: ChatMessage.Role) throws -> ChatPart {
        let o = try object(value)
        let type = try field("type") { d in try d.requiredString(o["type"]) }
        let allowed: Set<String> =
            switch role {
            case .user: ["text", "image_url", "file"]
            case .assistant: ["text", "refusal"]
            default: ["text"]
            }
        guard allowed.contains(type) else {
            let what =
                type == "input_audio"
                ? "input_audio content parts are not supported by this gateway"
                : "content part type \(quoted(type)) is not allowed in a \(role.rawValue) message (expected \(allowed.sorted().joined(separator: ", ")))"
            throw fail(at: "type", what)
        }
        switch type {
        case "text":
            return .text(try field("text") { d in try d.requiredString(o["text"]) })
        case "refusal":
            return .refusal(try field("refusal") { d in try d.requiredString(o["refusal"]) })
        case "image_url":
            let url = try field("image_url") { d -> String in
                guard let v = o["image_url"] else { throw d.fail("field required") }
                if case .string(let s) = v { return s }
                let io = try d.object(v)
                return try d.field("url") { d in try d.requiredString(io["url"], nonEmpty: true) }
            }
            countMedia(url)
            return .imageURL(url)
        default:  // file
            return try field("file") { d -> ChatPart in
                guard let v = o["file"] else { throw d.fail("field required") }
                let fo = try d.object(v)
                let data = try d.field("file_data") { d in try d.optionalString(fo["file_data"]) }
                let id = try d.field("file_id") { d in try d.optionalString(fo["file_id"]) }
                guard data != nil || id != nil else { throw d.fail("a file part needs file_data or file_id") }
                if let data { d.countMedia(data) }
                return .file(data: data, id: id)
            }
        }
    }

    /// Inline media counts as a fixed token cost instead of by size (TokenEstimator).
    mutating func countMedia(_ url: String) {
        guard url.hasPrefix("data:") else { return }
        mediaBytes = mediaBytes.addingSaturated(url.utf8.count)
        mediaCount += 1
    }

    mutating func decodeChatToolCall(_ value: JSONValue) throws -> ChatToolCall {
        let o = try object(value)
        let id = try field("id") { d in try d.requiredString(o["id"]) }
        if let type = o["type"], !type.isNull {
            let t = try field("type") { d in try d.requiredString(type) }
            guard t == "function" else { throw fail(at: "type", "only function tool calls are supported, got \(quoted(t))") }
        }
        return try field("function") { d in
            guard let f = o["function"] else { throw d.fail("field required") }
            return try d.decodeFunction(f, id: id)
        }
    }

    /// `{name, arguments}` of a tool call (or of a legacy `function_call`, whose name is its id).
    mutating func decodeFunction(_ value: JSONValue, id: String?) throws -> ChatToolCall {
        let f = try object(value)
        let name = try field("name") { d in try d.requiredString(f["name"], nonEmpty: true) }
        let arguments = try field("arguments") { d in try d.optionalString(f["arguments"]) } ?? ""
        return ChatToolCall(id: id ?? name, name: name, arguments: arguments)
    }

    mutating func decodeChatTool(_ value: JSONValue) throws -> ChatTool {
        let o = try object(value)
        let type = try field("type") { d in try d.requiredString(o["type"]) }
        guard type == "function" else { throw fail(at: "type", "only function tools are supported, got \(quoted(type))") }
        return try field("function") { d -> ChatTool in
            guard let v = o["function"] else { throw d.fail("field required") }
            let f = try d.object(v)
            let name = try d.field("name") { d in try d.requiredString(f["name"], nonEmpty: true) }
            let description = try d.field("description") { d in try d.optionalString(f["description"]) }
            let parameters = try d.field("parameters") { d -> JSONObject? in
                guard let p = f["parameters"], !p.isNull else { return nil }
                return try d.object(p)
            }
            return ChatTool(name: name, description: description, parameters: parameters)
        }
    }

    mutating func decodeChatToolChoice(_ value: JSONValue?) throws -> ChatToolChoice? {
        guard let value, !value.isNull else { return nil }
        if case .string(let s) = value {
            switch s {
            case "auto": return .auto
            case "none": return .disabled
            case "required": return .required
            default: throw fail("unknown tool_choice \(quoted(s)) (expected auto, none, required or a function)")
            }
        }
        let o = try object(value)
        let type = try field("type") { d in try d.requiredString(o["type"]) }
        guard type == "function" else { throw fail(at: "type", "unknown tool_choice type \(quoted(type)) (expected function)") }
        return try field("function") { d -> ChatToolChoice in
            guard let v = o["function"] else { throw d.fail("field required") }
            let f = try d.object(v)
            return .function(try d.field("name") { d in try d.requiredString(f["name"], nonEmpty: true) })
        }
    }

    mutating func decodeResponseFormat(_ value: JSONValue?) throws -> ChatResponseFormat? {
        guard let value, !value.isNull else { return nil }
        let o = try object(value)
        let type = try field("type") { d in try d.requiredString(o["type"]) }
        switch type {
        case "text": return .text
        case "json_object": return .jsonObject
        case "json_schema":
            return try field("json_schema") { d -> ChatResponseFormat in
                guard let v = o["json_schema"] else { throw d.fail("field required") }
                let js = try d.object(v)
                let schema = try d.field("schema") { d -> JSONObject in
                    guard let s = js["schema"], !s.isNull else { return JSONObject() }
                    return try d.object(s)
                }
                return .jsonSchema(schema)
            }
        default:
            throw fail(at: "type", "unknown response_format type \(quoted(type)) (expected text, json_object or json_schema)")
        }
    }
}
