/// Translates a non-streamed OpenAI Chat Completions answer into an Anthropic Message
/// (translation-spec §3).
public enum ChatResponseTranslator {
    /// The translated body, with the usage and stop reason for logs and limits.
    public struct Result: Sendable {
        public var body: [UInt8]
        public var usage: Usage
        public var stopReason: String
        /// Tool arguments that needed repair or were unusable.
        public var repairedToolCalls: Int
    }

    public static func translate(body: [UInt8], context: ResponseContext) throws(UpstreamFailure) -> Result {
        let json: JSONValue
        do {
            json = try JSONParser.parse(UpstreamErrorParser.trimmingLeadingWhitespace(body))
        } catch {
            throw UpstreamFailure(kind: .badResponse, upstreamStatus: 200, message: "upstream sent an unreadable response (\(error.message))")
        }
        if let error = json["error"], !error.isNull {
            throw UpstreamErrorParser.failure(errorObject: error)
        }
        if json["object"]?.stringValue == "error" {
            throw UpstreamErrorParser.failure(errorObject: json)
        }
        guard let choices = json["choices"]?.arrayValue, let choice = choices.first, case .object = choice else {
            throw UpstreamFailure(kind: .badResponse, upstreamStatus: 200, message: "upstream response has no choices")
        }
        let message = choice["message"] ?? .object([:])
        let finish = choice["finish_reason"]?.stringValue
        if finish == "error" {
            throw UpstreamFailure(kind: .serverError, upstreamStatus: 502, message: "upstream finished with an error")
        }
        var content: [JSONValue] = thinkingBlocks(message)
        var outputChars = 0
        for block in content { outputChars += block["thinking"]?.stringValue?.utf8.count ?? 0 }
        if let text = contentText(message["content"]), !text.isEmpty {
            content.append(.object(["type": .string("text"), "text": .string(text)]))
            outputChars += text.utf8.count
        }
        let refusal = message["refusal"]?.stringValue
        if let refusal, !refusal.isEmpty {
            content.append(.object(["type": .string("text"), "text": .string(refusal)]))
        }
        var calls = message["tool_calls"]?.arrayValue ?? []
        if calls.isEmpty, let legacy = message["function_call"], case .object = legacy {
            calls = [.object(["function": legacy])]
        }
        var repaired = 0
        for call in calls {
            let function = call["function"]
            let name = function?["name"]?.stringValue ?? ""
            let parsed = ToolArguments.parse(function?["arguments"])
            if parsed.repaired { repaired += 1 }
            let id = call["id"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? Identifiers.toolUseID()
            content.append(
                .object([
                    "type": .string("tool_use"), "id": .string(id),
                    "name": .string(context.toolNames.original(name)), "input": parsed.input,
                ]))
            outputChars += function?["arguments"]?.stringValue?.utf8.count ?? 0
        }
        let stop = StopReason.resolve(
            finishReason: finish, nativeFinishReason: choice["native_finish_reason"]?.stringValue,
            matchedStop: choice["stop_reason"]?.stringValue, sawToolUse: !calls.isEmpty,
            refusal: refusal.map { !$0.isEmpty } ?? false, stopSequences: context.stopSequences)
        let usage =
            Usage(openAI: json["usage"])
            ?? Usage.estimate(inputTokens: context.estimatedInputTokens, outputTokens: (outputChars + 3) / 4)
        let out: JSONObject = [
            "id": .string(Identifiers.messageID()), "type": .string("message"), "role": .string("assistant"),
            "model": .string(context.clientModel), "content": .array(content),
            "stop_reason": .string(stop.reason), "stop_sequence": stop.sequence.map { .string($0) } ?? .null,
            "usage": usage.json,
        ]
        return Result(body: JSONWriter.encode(.object(out), capacity: 512), usage: usage, stopReason: stop.reason, repairedToolCalls: repaired)
    }

    /// `content` as a string, or the concatenated text parts of an array.
    static func contentText(_ content: JSONValue?) -> String? {
        switch content {
        case .string(let s): return s
        case .array(let parts): return parts.compactMap { $0["text"]?.stringValue }.joined()
        default: return nil
        }
    }

    /// Thinking blocks from `reasoning_details` (grouped by index), else `reasoning` /
    /// `reasoning_content` (translation-spec §3.3).
    static func thinkingBlocks(_ message: JSONValue) -> [JSONValue] {
        if let details = message["reasoning_details"]?.arrayValue, !details.isEmpty {
            var merged = ReasoningDetailMerger()
            for detail in details { merged.add(detail) }
            return merged.blocks()
        }
        let text = message["reasoning"]?.stringValue ?? message["reasoning_content"]?.stringValue
        guard let text, !text.isEmpty else { return [] }
        return [.object(["type": .string("thinking"), "thinking": .string(text), "signature": .string("")])]
    }
}

/// Merges `reasoning_details` fragments that share an index into whole details, then renders
/// each as a thinking or redacted_thinking block.
struct ReasoningDetailMerger {
    private var order: [Int64] = []
    private var details: [Int64: ReasoningDetailAccumulator] = [:]
    private var nextSynthetic: Int64 = 1_000_000

    mutating func add(_ detail: JSONValue) {
        guard case .object(let o) = detail else { return }
        var key = o["index"]?.intValue ?? nextSynthetic
        if o["index"] == nil { nextSynthetic += 1 }
        if let existing = details[key] {
            if existing.type != o["type"]?.stringValue, o["type"]?.stringValue != "reasoning.text" || o["text"] != nil {
                // A different kind of detail under the same index: keep it separate.
                key = nextSynthetic
                nextSynthetic += 1
                order.append(key)
                details[key] = ReasoningDetailAccumulator(o)
                return
            }
            details[key]!.add(o)  // in place: no copy of the text so far
        } else {
            order.append(key)
            details[key] = ReasoningDetailAccumulator(o)
        }
    }

    func blocks() -> [JSONValue] {
        order.compactMap { details[$0]?.object }.map(Self.block)
    }

    static func block(_ detail: JSONObject) -> JSONValue {
        let anthropic = detail["format"]?.stringValue == ReasoningCodec.anthropicFormat
        switch detail["type"]?.stringValue {
        case "reasoning.encrypted":
            let data = anthropic ? (detail["data"]?.stringValue ?? "") : ReasoningCodec.encode(.object(detail))
            return .object(["type": .string("redacted_thinking"), "data": .string(data)])
        case "reasoning.summary":
            return .object([
                "type": .string("thinking"), "thinking": .string(detail["summary"]?.stringValue ?? ""),
                "signature": .string(ReasoningCodec.encode(.object(detail))),
            ])
        default:
            let signature = anthropic ? (detail["signature"]?.stringValue ?? "") : ReasoningCodec.encode(.object(detail))
            return .object([
                "type": .string("thinking"), "thinking": .string(detail["text"]?.stringValue ?? ""),
                "signature": .string(signature),
            ])
        }
    }
}
