import Foundation

/// Translates a validated Anthropic Messages request into an OpenAI Chat Completions body
/// (translation-spec §2). Pure; what it drops is reported in `notes` for the caller to log.
public struct ChatRequestBuilder {
    public static let interruptedToolResult = "(no result: tool call was interrupted)"
    static let billingHeaderPrefix = "x-anthropic-billing-header:"

    let options: TranslationOptions
    public internal(set) var notes: [String] = []

    public init(options: TranslationOptions) {
        self.options = options
    }

    /// The effective max_tokens after the target's clamp.
    public static func effectiveMaxTokens(_ request: MessagesRequest, cap: Int?) -> Int {
        let requested = request.maxTokens ?? 4096
        if let cap { return min(requested, cap) }
        return requested
    }

    /// Builds the upstream body as bytes.
    public mutating func encode(_ request: MessagesRequest) -> [UInt8] {
        let body = build(request)
        var writer = JSONWriter(capacity: 1024)
        writer.write(body)
        return writer.bytes
    }

    public mutating func build(_ request: MessagesRequest) -> JSONObject {
        var out = JSONObject()
        out.members.reserveCapacity(16)
        out.append("model", .string(options.upstreamModel))
        out.append("messages", .array(buildMessages(request)))
        let maxTokens = Self.effectiveMaxTokens(request, cap: options.maxTokensCap)
        out.append(options.dialect == .openrouter ? "max_tokens" : "max_completion_tokens", .int(Int64(maxTokens)))
        if request.stream {
            out.append("stream", .bool(true))
            out.append("stream_options", .object(["include_usage": .bool(true)]))
        }
        if options.requestCost { out.append("usage", .object(["include": .bool(true)])) }
        if let t = request.temperature { out.append("temperature", .double(t)) }
        if let p = request.topP { out.append("top_p", .double(p)) }
        if let k = request.topK, options.dialect == .openrouter { out.append("top_k", .int(Int64(k))) }
        if !request.stopSequences.isEmpty {
            var stops = request.stopSequences
            if options.dialect == .openai && stops.count > 4 {
                stops = Array(stops.prefix(4))
                notes.append("stop_sequences truncated to 4 for an OpenAI upstream")
            }
            out.append("stop", .array(stops.map { .string($0) }))
        }
        if let user = request.metadataUserID, !user.isEmpty {
            out.append(options.dialect == .openrouter ? "user" : "safety_identifier", .string(SHA256Digest.hex(user)))
        }
        appendTools(request, to: &out)
        appendReasoning(request, maxTokens: maxTokens, to: &out)
        if let schema = request.outputSchema {
            out.append(
                "response_format",
                .object([
                    "type": .string("json_schema"),
                    "json_schema": .object(["name": .string("structured_output"), "schema": schema, "strict": .bool(true)]),
                ]))
        }
        if !request.serverToolNames.isEmpty {
            notes.append("server tools dropped (an OpenAI upstream cannot run them): \(request.serverToolNames.joined(separator: ", "))")
        }
        return out
    }

    // MARK: Tools

    private mutating func appendTools(_ request: MessagesRequest, to out: inout JSONObject) {
        guard !request.tools.isEmpty else { return }
        var tools: [JSONValue] = []
        tools.reserveCapacity(request.tools.count)
        for tool in request.tools {
            var function = JSONObject()
            function.append("name", .string(ToolNameMap.alias(tool.name)))
            if let d = tool.description { function.append("description", .string(d)) }
            function.append("parameters", .object(Self.parameters(tool.inputSchema)))
            tools.append(.object(["type": .string("function"), "function": .object(function)]))
        }
        out.append("tools", .array(tools))
        guard let choice = request.toolChoice else { return }
        switch choice.kind {
        case .auto: out.append("tool_choice", .string("auto"))
        case .any: out.append("tool_choice", .string("required"))
        case .none: out.append("tool_choice", .string("none"))
        case .tool(let name):
            out.append("tool_choice", .object(["type": .string("function"), "function": .object(["name": .string(ToolNameMap.alias(name))])]))
        }
        if choice.disableParallelToolUse, choice.kind != .none {
            out.append("parallel_tool_calls", .bool(false))
        }
    }

    /// `input_schema` as OpenAI `parameters`: top-level `$schema` dropped, an object schema
    /// always has `properties`.
    static func parameters(_ schema: JSONObject) -> JSONObject {
        var p = schema
        if p["$schema"] != nil { p["$schema"] = nil }
        if p.isEmpty { return ["type": .string("object"), "properties": .object([:])] }
        if p["type"]?.stringValue == "object", p["properties"] == nil { p.append("properties", .object([:])) }
        return p
    }

    // MARK: Reasoning

    private func appendReasoning(_ request: MessagesRequest, maxTokens: Int, to out: inout JSONObject) {
        guard let thinking = request.thinking else { return }
        switch (options.dialect, thinking) {
        case (_, .disabled):
            return
        case (.openrouter, .enabled(let budget, let display)):
            var r = JSONObject()
            r.append("max_tokens", .int(Int64(max(1, min(budget, maxTokens - 1)))))
            if display == "omitted" { r.append("exclude", .bool(true)) }
            out.append("reasoning", .object(r))
        case (.openrouter, .adaptive(let display)):
            var r = JSONObject()
            if let effort = request.effort {
                r.append("effort", .string(effort == "max" ? "xhigh" : effort))
            } else {
                r.append("enabled", .bool(true))
            }
            if display == "omitted" { r.append("exclude", .bool(true)) }
            out.append("reasoning", .object(r))
        case (.openai, .enabled(let budget, _)):
            out.append("reasoning_effort", .string(budget <= 1024 ? "low" : budget <= 8192 ? "medium" : "high"))
        case (.openai, .adaptive):
            let effort = request.effort.map { $0 == "max" ? "xhigh" : $0 } ?? "medium"
            out.append("reasoning_effort", .string(effort))
        }
    }
}
