/// Decoding of content blocks, tools, tool_choice and thinking.
extension RequestDecoder {
    mutating func decodeBlock(_ value: JSONValue, inToolResult: Bool) throws -> ContentBlock {
        let o = try object(value)
        let type = try field("type") { d in try d.requiredString(o["type"]) }
        switch type {
        case "text":
            let text = try field("text") { d in try d.requiredString(o["text"]) }
            return .text(text, cacheControl: o["cache_control"])
        case "image":
            return .image(try field("source") { d in try d.decodeImageSource(o["source"]) })
        case "document":
            return .document(try decodeDocument(o))
        case "search_result":
            return .searchResult(try decodeSearchResult(o))
        case "thinking" where !inToolResult:
            let text = try field("thinking") { d in try d.requiredString(o["thinking"]) }
            let signature = try field("signature") { d in try d.optionalString(o["signature"]) } ?? ""
            return .thinking(text: text, signature: signature)
        case "redacted_thinking" where !inToolResult:
            return .redactedThinking(data: try field("data") { d in try d.requiredString(o["data"]) })
        case "tool_use" where !inToolResult:
            let id = try field("id") { d in try d.requiredString(o["id"], nonEmpty: true) }
            let name = try field("name") { d in try d.requiredString(o["name"], nonEmpty: true) }
            let input = try field("input") { d -> JSONValue in
                guard let i = o["input"] else { throw d.fail("field required") }
                return .object(try d.object(i))
            }
            return .toolUse(id: id, name: name, input: input)
        case "tool_result" where !inToolResult:
            return .toolResult(try decodeToolResult(o))
        case "mid_conv_system" where !inToolResult:
            let text = try field("text") { d in try d.optionalString(o["text"]) } ?? ""
            return .text(text, cacheControl: nil)  // callers see it through the role of its message
        default:
            guard Self.knownBlockTypes.contains(type) else {
                throw fail(at: "type", "unknown block type \(quoted(type))")
            }
            if inToolResult, ["thinking", "redacted_thinking", "tool_use", "tool_result"].contains(type) {
                throw fail(at: "type", "block type \(quoted(type)) is not allowed inside a tool_result")
            }
            return .unmapped(type: type)
        }
    }

    mutating func decodeImageSource(_ value: JSONValue?) throws -> ImageSource {
        guard let value else { throw fail("field required") }
        let s = try object(value)
        let type = try field("type") { d in try d.requiredString(s["type"]) }
        switch type {
        case "base64":
            let mediaType = try field("media_type") { d in try d.requiredString(s["media_type"], nonEmpty: true) }
            let data = try field("data") { d in try d.requiredString(s["data"]) }
            mediaBytes += data.utf8.count
            mediaCount += 1
            return .base64(mediaType: mediaType, data: data)
        case "url":
            mediaCount += 1
            return .url(try field("url") { d in try d.requiredString(s["url"], nonEmpty: true) })
        case "file":
            return .file(id: try field("file_id") { d in try d.requiredString(s["file_id"], nonEmpty: true) })
        default:
            throw fail(at: "type", "unknown image source type \(quoted(type)) (expected base64, url or file)")
        }
    }

    mutating func decodeDocument(_ o: JSONObject) throws -> Document {
        let title = try field("title") { d in try d.optionalString(o["title"]) }
        let context = try field("context") { d in try d.optionalString(o["context"]) }
        let source = try field("source") { d -> Document.Source in
            guard let v = o["source"] else { throw d.fail("field required") }
            let s = try d.object(v)
            let type = try d.field("type") { d in try d.requiredString(s["type"]) }
            switch type {
            case "base64":
                let mt = try d.field("media_type") { d in try d.requiredString(s["media_type"], nonEmpty: true) }
                let data = try d.field("data") { d in try d.requiredString(s["data"]) }
                d.mediaBytes += data.utf8.count
                d.mediaCount += 1
                return .base64(mediaType: mt, data: data)
            case "url":
                return .url(try d.field("url") { d in try d.requiredString(s["url"], nonEmpty: true) })
            case "text":
                return .text(try d.field("data") { d in try d.requiredString(s["data"]) })
            case "content":
                return try d.field("content") { d -> Document.Source in
                    guard let c = s["content"] else { throw d.fail("field required") }
                    if case .string(let text) = c { return .text(text) }
                    var blocks: [ContentBlock] = []
                    for (i, b) in try d.array(c).enumerated() {
                        blocks.append(try d.element(i) { d in try d.decodeBlock(b, inToolResult: true) })
                    }
                    return .content(blocks)
                }
            case "file":
                return .file(id: try d.field("file_id") { d in try d.requiredString(s["file_id"], nonEmpty: true) })
            default:
                throw d.fail(at: "type", "unknown document source type \(quoted(type))")
            }
        }
        return Document(source: source, title: title, context: context)
    }

    mutating func decodeSearchResult(_ o: JSONObject) throws -> SearchResult {
        let title = try field("title") { d in try d.requiredString(o["title"]) }
        let source = try field("source") { d in try d.requiredString(o["source"]) }
        let texts = try field("content") { d -> [String] in
            guard let c = o["content"] else { throw d.fail("field required") }
            var out: [String] = []
            for (i, b) in try d.array(c).enumerated() {
                try d.element(i) { d in
                    let bo = try d.object(b)
                    out.append(try d.field("text") { d in try d.requiredString(bo["text"]) })
                }
            }
            return out
        }
        return SearchResult(title: title, source: source, texts: texts)
    }

    mutating func decodeToolResult(_ o: JSONObject) throws -> ToolResult {
        let id = try field("tool_use_id") { d in try d.requiredString(o["tool_use_id"], nonEmpty: true) }
        let isError = try field("is_error") { d in try d.bool(o["is_error"]) } ?? false
        let content = try field("content") { d -> [ContentBlock] in
            guard let c = o["content"], !c.isNull else { return [] }
            switch c {
            case .string(let s): return [.text(s, cacheControl: nil)]
            case .array(let blocks):
                var out: [ContentBlock] = []
                for (i, b) in blocks.enumerated() {
                    out.append(try d.element(i) { d in try d.decodeBlock(b, inToolResult: true) })
                }
                return out
            default:
                throw d.fail("expected a string or an array of content blocks, got \(c.typeName)")
            }
        }
        return ToolResult(toolUseID: id, content: content, isError: isError)
    }

    /// A client tool, or nil for a server tool (typed, not `custom`).
    mutating func decodeTool(_ value: JSONValue) throws -> Tool? {
        let o = try object(value)
        if let type = try field("type", { d in try d.optionalString(o["type"]) }), type != "custom" {
            return nil
        }
        let name = try field("name") { d -> String in
            let n = try d.requiredString(o["name"], nonEmpty: true)
            guard n.utf8.count <= 128, n.utf8.allSatisfy(Self.isToolNameByte) else {
                throw d.fail("tool names must match ^[a-zA-Z0-9_-]{1,128}$")
            }
            return n
        }
        let description = try field("description") { d in try d.optionalString(o["description"]) }
        let schema = try field("input_schema") { d -> JSONObject in
            guard let s = o["input_schema"] else { throw d.fail("field required") }
            return try d.object(s)
        }
        return Tool(name: name, description: description, inputSchema: schema)
    }

    static func isToolNameByte(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F || c == 0x2D
    }

    mutating func decodeToolChoice(_ value: JSONValue?) throws -> ToolChoice? {
        guard let value, !value.isNull else { return nil }
        let o = try object(value)
        let type = try field("type") { d in try d.requiredString(o["type"]) }
        let disable = try field("disable_parallel_tool_use") { d in try d.bool(o["disable_parallel_tool_use"]) } ?? false
        let kind: ToolChoice.Kind
        switch type {
        case "auto": kind = .auto
        case "any": kind = .any
        case "none": kind = .none
        case "tool": kind = .tool(try field("name") { d in try d.requiredString(o["name"], nonEmpty: true) })
        default: throw fail(at: "type", "unknown tool_choice type \(quoted(type)) (expected auto, any, tool or none)")
        }
        return ToolChoice(kind: kind, disableParallelToolUse: disable)
    }

    mutating func decodeThinking(_ value: JSONValue?) throws -> Thinking? {
        guard let value, !value.isNull else { return nil }
        let o = try object(value)
        let type = try field("type") { d in try d.requiredString(o["type"]) }
        let display = try field("display") { d in try d.optionalString(o["display"]) }
        switch type {
        case "enabled":
            let budget = try field("budget_tokens") { d -> Int in
                guard let b = o["budget_tokens"] else { throw d.fail("field required") }
                let n = try d.integer(b, min: 0)
                guard n >= 1024 else { throw d.fail("must be at least 1024, got \(n)") }
                return n
            }
            return .enabled(budgetTokens: budget, display: display)
        case "adaptive": return .adaptive(display: display)
        case "disabled": return .disabled
        default: throw fail(at: "type", "unknown thinking type \(quoted(type)) (expected enabled, adaptive or disabled)")
        }
    }
}
