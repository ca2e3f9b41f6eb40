import Foundation

/// The order-preserving message walk (translation-spec §2.2–§2.6) and tool-pair repair (§2.3).
extension ChatRequestBuilder {
    mutating func buildMessages(_ request: MessagesRequest) -> [JSONValue] {
        var out: [JSONValue] = []
        out.reserveCapacity(request.messages.count + 2)
        let system = request.system
            .filter { !(options.stripBillingHeader && $0.text.hasPrefix(Self.billingHeaderPrefix)) && !$0.text.isEmpty }
        if options.cacheMode, system.contains(where: { $0.cacheControl != nil }) {
            let parts = system.map { Self.textPart($0.text, cacheControl: $0.cacheControl) }
            out.append(.object(["role": .string("system"), "content": .array(parts)]))
        } else if !system.isEmpty {
            out.append(.object(["role": .string("system"), "content": .string(system.map(\.text).joined(separator: "\n\n"))]))
        }
        for message in request.messages {
            switch message.role {
            case .system: appendSystem(message, to: &out)
            case .user: appendUser(message, to: &out)
            case .assistant: appendAssistant(message, to: &out)
            }
        }
        return Self.repairToolPairs(out)
    }

    private func appendSystem(_ message: Message, to out: inout [JSONValue]) {
        let text = message.content.compactMap { block -> String? in
            if case .text(let t, _) = block, !t.isEmpty { return t }
            return nil
        }.joined(separator: "\n\n")
        if !text.isEmpty { out.append(.object(["role": .string("system"), "content": .string(text)])) }
    }

    // MARK: User turns

    private mutating func appendUser(_ message: Message, to out: inout [JSONValue]) {
        var parts: [JSONValue] = []
        var toolImages: [JSONValue] = []
        var allText = true
        for block in message.content {
            switch block {
            case .toolResult(let result):
                out.append(
                    .object([
                        "role": .string("tool"),
                        "tool_call_id": .string(toolCallID(result.toolUseID)),
                        "content": .string(toolResultText(result, images: &toolImages)),
                    ]))
            case .text(let t, let cacheControl):
                guard !t.isEmpty else { continue }
                if options.cacheMode, let cacheControl {
                    parts.append(Self.textPart(t, cacheControl: cacheControl))
                    allText = false
                } else {
                    parts.append(Self.textPart(t))
                }
            case .image(let source):
                if let part = imagePart(source) {
                    parts.append(part)
                    allText = false
                }
            case .document(let doc):
                if let part = documentPart(doc) {
                    if case .object(let o) = part, o["type"]?.stringValue != "text" { allText = false }
                    parts.append(part)
                }
            case .searchResult(let r):
                parts.append(Self.textPart(Self.render(r)))
            case .thinking, .redactedThinking, .toolUse:
                break  // not meaningful in a user turn
            case .unmapped(let type):
                notes.append("dropped a \(type) block (no OpenAI equivalent)")
            }
        }
        if !toolImages.isEmpty {
            parts = toolImages + parts
            allText = false
        }
        guard !parts.isEmpty else { return }
        if allText {
            let text = parts.compactMap { $0["text"]?.stringValue }.joined(separator: "\n\n")
            out.append(.object(["role": .string("user"), "content": .string(text)]))
        } else {
            out.append(.object(["role": .string("user"), "content": .array(parts)]))
        }
    }

    static func textPart(_ text: String, cacheControl: JSONValue? = nil) -> JSONValue {
        var o: JSONObject = ["type": .string("text"), "text": .string(text)]
        o.append("cache_control", ifPresent: cacheControl)
        return .object(o)
    }

    private mutating func imagePart(_ source: ImageSource) -> JSONValue? {
        let url: String
        switch source {
        case .base64(let mediaType, let data): url = "data:\(mediaType);base64,\(data)"
        case .url(let u): url = u
        case .file:
            notes.append("dropped an image given by file_id (Files API references cannot be forwarded)")
            return nil
        }
        return .object(["type": .string("image_url"), "image_url": .object(["url": .string(url)])])
    }

    private mutating func documentPart(_ doc: Document) -> JSONValue? {
        switch doc.source {
        case .base64(let mediaType, let data):
            if mediaType == "application/pdf" {
                return .object([
                    "type": .string("file"),
                    "file": .object([
                        "filename": .string(doc.title ?? "document.pdf"),
                        "file_data": .string("data:\(mediaType);base64,\(data)"),
                    ]),
                ])
            }
            if mediaType.hasPrefix("text/"), let decoded = Data(base64Encoded: data), let text = String(data: decoded, encoding: .utf8) {
                return Self.textPart(Self.documentText(doc, body: text))
            }
            notes.append("dropped a \(mediaType) document (unsupported by OpenAI upstreams)")
            return nil
        case .url(let url):
            if options.dialect == .openrouter {
                return .object([
                    "type": .string("file"),
                    "file": .object([
                        "filename": .string(doc.title ?? "document.pdf"), "file_data": .string(url),
                    ]),
                ])
            }
            return Self.textPart("[document: \(url)]")
        case .text(let text):
            return Self.textPart(Self.documentText(doc, body: text))
        case .content(let blocks):
            let text = blocks.compactMap { block -> String? in
                if case .text(let t, _) = block { return t }
                return nil
            }.joined(separator: "\n")
            return Self.textPart(Self.documentText(doc, body: text))
        case .file:
            notes.append("dropped a document given by file_id (Files API references cannot be forwarded)")
            return nil
        }
    }

    static func documentText(_ doc: Document, body: String) -> String {
        [doc.title, doc.context, body].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: "\n")
    }

    static func render(_ r: SearchResult) -> String {
        "\(r.title) (\(r.source))\n" + r.texts.joined(separator: "\n")
    }

    /// The text of a tool result; its images go to `images` for the user message that follows.
    private mutating func toolResultText(_ result: ToolResult, images: inout [JSONValue]) -> String {
        var texts: [String] = []
        var labelled = false
        for block in result.content {
            switch block {
            case .text(let t, _): texts.append(t)
            case .image(let source):
                if let part = imagePart(source) {
                    if !labelled {
                        images.append(Self.textPart("[image output of tool call \(result.toolUseID)]"))
                        labelled = true
                    }
                    images.append(part)
                }
            case .document(let doc):
                if let part = documentPart(doc) {
                    if let t = part["text"]?.stringValue { texts.append(t) } else { images.append(part) }
                }
            case .searchResult(let r): texts.append(Self.render(r))
            default: break  // tool_reference and other listed blocks carry nothing to forward
            }
        }
        let text = texts.joined(separator: "\n")
        return result.isError ? "Error: " + text : text
    }

    // MARK: Assistant turns

    private mutating func appendAssistant(_ message: Message, to out: inout [JSONValue]) {
        var texts: [String] = []
        var calls: [JSONValue] = []
        var reasoning: [String] = []
        var details: [JSONValue] = []
        for block in message.content {
            switch block {
            case .text(let t, _):
                if !t.isEmpty { texts.append(t) }
            case .toolUse(let id, let name, let input):
                calls.append(
                    .object([
                        "id": .string(toolCallID(id)),
                        "type": .string("function"),
                        "function": .object([
                            "name": .string(ToolNameMap.alias(name)),
                            "arguments": .string(JSONWriter.encodeString(input)),
                        ]),
                    ]))
            case .thinking(let text, let signature):
                guard options.dialect == .openrouter else { continue }
                if !text.isEmpty { reasoning.append(text) }
                if let detail = ReasoningCodec.detail(thinking: text, signature: signature, index: details.count) {
                    details.append(detail)
                }
            case .redactedThinking(let data):
                guard options.dialect == .openrouter else { continue }
                if let detail = ReasoningCodec.detail(redacted: data, index: details.count) { details.append(detail) }
            case .unmapped(let type):
                notes.append("dropped a \(type) block from an assistant turn (no OpenAI equivalent)")
            case .image, .document, .searchResult, .toolResult:
                break
            }
        }
        guard !texts.isEmpty || !calls.isEmpty else { return }
        var m = JSONObject()
        m.append("role", .string("assistant"))
        m.append("content", texts.isEmpty ? .null : .string(texts.joined(separator: "\n\n")))
        if !reasoning.isEmpty { m.append("reasoning", .string(reasoning.joined())) }
        if !details.isEmpty { m.append("reasoning_details", .array(details)) }
        if !calls.isEmpty { m.append("tool_calls", .array(calls)) }
        out.append(.object(m))
    }

    /// Tool ids pass unchanged to OpenRouter; OpenAI-dialect upstreams get ids of at most 40 characters.
    func toolCallID(_ id: String) -> String {
        options.dialect == .openai ? Identifiers.openAIToolCallID(id) : id
    }

    // MARK: Pair repair

    /// Every assistant tool call gets exactly one following tool message; orphan tool messages
    /// become user text (OpenAI rejects both kinds of mismatch).
    static func repairToolPairs(_ messages: [JSONValue]) -> [JSONValue] {
        var out: [JSONValue] = []
        out.reserveCapacity(messages.count)
        var i = 0
        while i < messages.count {
            let m = messages[i]
            if m["role"]?.stringValue == "tool" {
                out.append(orphan(m))
                i += 1
                continue
            }
            out.append(m)
            i += 1
            guard m["role"]?.stringValue == "assistant", let calls = m["tool_calls"]?.arrayValue else { continue }
            let ids = calls.compactMap { $0["id"]?.stringValue }
            var answered = Set<String>()
            var orphans: [JSONValue] = []
            while i < messages.count, messages[i]["role"]?.stringValue == "tool" {
                let t = messages[i]
                let id = t["tool_call_id"]?.stringValue ?? ""
                if ids.contains(id) {
                    if answered.insert(id).inserted { out.append(t) }
                } else {
                    orphans.append(orphan(t))
                }
                i += 1
            }
            for id in ids where !answered.contains(id) {
                answered.insert(id)
                out.append(.object(["role": .string("tool"), "tool_call_id": .string(id), "content": .string(interruptedToolResult)]))
            }
            out.append(contentsOf: orphans)
        }
        return out
    }

    private static func orphan(_ tool: JSONValue) -> JSONValue {
        let id = tool["tool_call_id"]?.stringValue ?? ""
        let content = tool["content"]?.stringValue ?? ""
        return .object(["role": .string("user"), "content": .string("[tool result for \(id)]\n\(content)")])
    }
}
