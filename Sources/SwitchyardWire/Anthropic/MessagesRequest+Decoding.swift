/// Decoding and validation of a Messages request body.
///
/// Rules: every field the gateway understands is checked for type, shape and range; a block type
/// outside the Messages API's list is an error; unknown top-level keys are ignored (newer clients
/// add beta fields first) and are never forwarded to OpenAI upstreams; duplicate keys were already
/// rejected by `JSONParser`.
extension MessagesRequest {
    public enum Purpose: Sendable { case messages, countTokens }

    /// Parses and validates a raw body. Throws `RequestValidationError` (path "" for a body that
    /// is not a JSON object or not JSON at all).
    public static func decode(body: UnsafeRawBufferPointer, purpose: Purpose = .messages) throws(RequestValidationError) -> MessagesRequest {
        let value: JSONValue
        do {
            value = try JSONParser.parse(body)
        } catch {
            throw RequestValidationError(path: "", problem: "invalid JSON body: \(error.description)")
        }
        return try decode(json: value, purpose: purpose)
    }

    public static func decode(body: [UInt8], purpose: Purpose = .messages) throws(RequestValidationError) -> MessagesRequest {
        let result: Result<MessagesRequest, RequestValidationError> = body.withUnsafeBytes { raw in
            do throws(RequestValidationError) { return .success(try decode(body: raw, purpose: purpose)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    public static func decode(json: JSONValue, purpose: Purpose = .messages) throws(RequestValidationError) -> MessagesRequest {
        guard case .object(let object) = json else {
            throw RequestValidationError(path: "", problem: "the request body must be a JSON object, not \(json.typeName)")
        }
        var decoder = RequestDecoder()
        do {
            return try decoder.decodeRequest(object, purpose: purpose)
        } catch let error as RequestValidationError {
            throw error
        } catch {
            throw RequestValidationError(path: decoder.path.rendered, problem: "invalid value")
        }
    }
}

/// Walks the request object, keeping the current path for error messages.
struct RequestDecoder {
    var path = FieldPath()
    var mediaBytes = 0
    var mediaCount = 0

    static let knownBlockTypes: Set<String> = [
        "text", "image", "document", "search_result", "thinking", "redacted_thinking", "tool_use",
        "tool_result", "server_tool_use", "web_search_tool_result", "web_fetch_tool_result",
        "code_execution_tool_result", "bash_code_execution_tool_result",
        "text_editor_code_execution_tool_result", "tool_search_tool_result", "container_upload",
        "mid_conv_system", "tool_reference", "mcp_tool_use", "mcp_tool_result",
    ]

    func fail(_ problem: String) -> RequestValidationError {
        RequestValidationError(path: path.rendered, problem: problem)
    }

    func fail(at key: String, _ problem: String) -> RequestValidationError {
        var p = path
        p.push(key)
        return RequestValidationError(path: p.rendered, problem: problem)
    }

    mutating func field<T>(_ key: String, _ body: (inout RequestDecoder) throws -> T) throws -> T {
        path.push(key)
        defer { path.pop() }
        return try body(&self)
    }

    mutating func element<T>(_ index: Int, _ body: (inout RequestDecoder) throws -> T) throws -> T {
        path.push(index)
        defer { path.pop() }
        return try body(&self)
    }

    // MARK: Scalars

    func requiredString(_ value: JSONValue?, nonEmpty: Bool = false) throws -> String {
        guard let value else { throw fail("field required") }
        guard case .string(let s) = value else { throw fail("expected a string, got \(value.typeName)") }
        if nonEmpty && s.isEmpty { throw fail("must be a non-empty string") }
        return s
    }

    func optionalString(_ value: JSONValue?) throws -> String? {
        guard let value, !value.isNull else { return nil }
        guard case .string(let s) = value else { throw fail("expected a string, got \(value.typeName)") }
        return s
    }

    /// A JSON integer: digits only, as the API's schema says. A number written with a fraction
    /// or an exponent (`1.0`, `1e3`, `0.000…`) or beyond 64 bits is refused, whatever its value.
    func integer(_ value: JSONValue, min: Int) throws -> Int {
        switch value {
        case .int(let i):
            guard i >= Int64(min) else { throw fail("must be an integer >= \(min), got \(i)") }
            return Int(i)
        case .double:
            throw fail("must be an integer (digits only, no fraction or exponent)")
        default:
            throw fail("expected an integer, got \(value.typeName)")
        }
    }

    func number(_ value: JSONValue?, range: ClosedRange<Double>?) throws -> Double? {
        guard let value, !value.isNull else { return nil }
        guard let d = value.doubleValue else { throw fail("expected a number, got \(value.typeName)") }
        if let range, !range.contains(d) {
            throw fail("must be between \(Self.format(range.lowerBound)) and \(Self.format(range.upperBound)), got \(Self.format(d))")
        }
        return d
    }

    static func format(_ d: Double) -> String {
        d.rounded() == d && abs(d) < 1e15 ? String(Int64(d)) : String(d)
    }

    func bool(_ value: JSONValue?) throws -> Bool? {
        guard let value, !value.isNull else { return nil }
        guard case .bool(let b) = value else { throw fail("expected a boolean, got \(value.typeName)") }
        return b
    }

    func object(_ value: JSONValue) throws -> JSONObject {
        guard case .object(let o) = value else { throw fail("expected an object, got \(value.typeName)") }
        return o
    }

    func array(_ value: JSONValue) throws -> [JSONValue] {
        guard case .array(let a) = value else { throw fail("expected an array, got \(value.typeName)") }
        return a
    }

    // MARK: Request

    mutating func decodeRequest(_ o: JSONObject, purpose: MessagesRequest.Purpose) throws -> MessagesRequest {
        let model = try field("model") { d in try d.requiredString(o["model"], nonEmpty: true) }
        var maxTokens: Int? = nil
        if purpose == .messages || o["max_tokens"] != nil {
            maxTokens = try field("max_tokens") { d -> Int in
                guard let v = o["max_tokens"] else { throw d.fail("field required") }
                return try d.integer(v, min: 0)
            }
        }
        let messages = try field("messages") { d -> [Message] in
            guard let v = o["messages"] else { throw d.fail("field required") }
            let list = try d.array(v)
            if list.isEmpty { throw d.fail("at least one message is required") }
            var out: [Message] = []
            out.reserveCapacity(list.count)
            for (i, m) in list.enumerated() {
                out.append(try d.element(i) { d in try d.decodeMessage(m) })
            }
            return out
        }
        let system = try field("system") { d in try d.decodeSystem(o["system"]) }
        let stream = try field("stream") { d in try d.bool(o["stream"]) } ?? false
        let temperature = try field("temperature") { d in try d.number(o["temperature"], range: 0...1) }
        let topP = try field("top_p") { d in try d.number(o["top_p"], range: 0...1) }
        let topK = try field("top_k") { d -> Int? in
            guard let v = o["top_k"], !v.isNull else { return nil }
            return try d.integer(v, min: 0)
        }
        let stops = try field("stop_sequences") { d -> [String] in
            guard let v = o["stop_sequences"], !v.isNull else { return [] }
            return try d.array(v).enumerated().map { i, s in try d.element(i) { d in try d.requiredString(s) } }
        }
        let userID = try field("metadata") { d -> String? in
            guard let v = o["metadata"], !v.isNull else { return nil }
            let m = try d.object(v)
            return try d.field("user_id") { d in try d.optionalString(m["user_id"]) }
        }
        var serverTools: [String] = []
        let tools = try field("tools") { d -> [Tool] in
            guard let v = o["tools"], !v.isNull else { return [] }
            var out: [Tool] = []
            for (i, t) in try d.array(v).enumerated() {
                try d.element(i) { d in
                    if let tool = try d.decodeTool(t) { out.append(tool) } else { serverTools.append(t["name"]?.stringValue ?? t["type"]?.stringValue ?? "?") }
                }
            }
            return out
        }
        let toolChoice = try field("tool_choice") { d in try d.decodeToolChoice(o["tool_choice"]) }
        let thinking = try field("thinking") { d in try d.decodeThinking(o["thinking"]) }
        var effort: String? = nil
        var schema: JSONValue? = nil
        if let oc = o["output_config"], !oc.isNull {
            try field("output_config") { d in
                let c = try d.object(oc)
                effort = try d.field("effort") { d -> String? in
                    guard let e = try d.optionalString(c["effort"]) else { return nil }
                    guard ["low", "medium", "high", "xhigh", "max"].contains(e) else { throw d.fail("unknown effort \(quoted(e))") }
                    return e
                }
                if let f = c["format"], !f.isNull {
                    schema = try d.field("format") { d -> JSONValue? in
                        let fo = try d.object(f)
                        let type = try d.field("type") { d in try d.requiredString(fo["type"]) }
                        guard type == "json_schema" else { return nil }
                        return try d.field("schema") { d -> JSONValue in
                            guard let s = fo["schema"] else { throw d.fail("field required") }
                            return .object(try d.object(s))
                        }
                    }
                }
            }
        }
        return MessagesRequest(
            model: model, maxTokens: maxTokens, system: system, messages: messages, stream: stream,
            temperature: temperature, topP: topP, topK: topK, stopSequences: stops, metadataUserID: userID,
            tools: tools, serverToolNames: serverTools, toolChoice: toolChoice, thinking: thinking, effort: effort,
            outputSchema: schema, mediaBytes: mediaBytes, mediaCount: mediaCount, raw: o)
    }

    mutating func decodeSystem(_ value: JSONValue?) throws -> [SystemText] {
        guard let value, !value.isNull else { return [] }
        switch value {
        case .string(let s):
            return s.isEmpty ? [] : [SystemText(text: s, cacheControl: nil)]
        case .array(let blocks):
            var out: [SystemText] = []
            for (i, b) in blocks.enumerated() {
                try element(i) { d in
                    let o = try d.object(b)
                    let type = try d.field("type") { d in try d.requiredString(o["type"]) }
                    guard type == "text" else { throw d.fail("system blocks must be of type \"text\", got \(quoted(type))") }
                    let text = try d.field("text") { d in try d.requiredString(o["text"]) }
                    out.append(SystemText(text: text, cacheControl: o["cache_control"]))
                }
            }
            return out
        default:
            throw fail("expected a string or an array of text blocks, got \(value.typeName)")
        }
    }

    mutating func decodeMessage(_ value: JSONValue) throws -> Message {
        let o = try object(value)
        let roleName = try field("role") { d in try d.requiredString(o["role"]) }
        guard let role = Message.Role(rawValue: roleName) else {
            path.push("role")
            defer { path.pop() }
            throw fail("unknown role \(quoted(roleName)) (expected user or assistant)")
        }
        let content = try field("content") { d -> [ContentBlock] in
            guard let c = o["content"] else { throw d.fail("field required") }
            switch c {
            case .string(let s): return [.text(s, cacheControl: nil)]
            case .array(let blocks):
                var out: [ContentBlock] = []
                out.reserveCapacity(blocks.count)
                for (i, b) in blocks.enumerated() {
                    out.append(try d.element(i) { d in try d.decodeBlock(b, inToolResult: false) })
                }
                return out
            default:
                throw d.fail("expected a string or an array of content blocks, got \(c.typeName)")
            }
        }
        return Message(role: role, content: content)
    }
}
