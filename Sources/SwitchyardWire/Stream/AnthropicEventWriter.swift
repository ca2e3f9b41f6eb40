/// Writes Anthropic SSE events (`event: X\ndata: {…}\n\n`) straight into a byte buffer, without
/// building JSON trees for the hot delta events.
struct AnthropicEventWriter: Sendable {
    var writer = JSONWriter(capacity: 512)
    /// Blanks upstream secrets out of text and thinking deltas, also when one is split across
    /// deltas (held back until the block shows what follows), and out of each tool-argument
    /// fragment. Nil: no secrets.
    var scrubber: SecretScrubber?
    /// The kind of the deltas whose tail the scrubber may be holding.
    private var heldKind: DeltaKind?

    var bytes: [UInt8] {
        get { writer.bytes }
        set { writer.bytes = newValue }
    }

    mutating func messageStart(id: String, model: String) {
        writer.appendRaw("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":")
        writer.writeString(id)
        writer.appendRaw(",\"type\":\"message\",\"role\":\"assistant\",\"model\":")
        writer.writeString(model)
        writer.appendRaw(
            ",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":0,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,\"output_tokens\":0}}}\n\n"
        )
    }

    mutating func textStart(_ index: Int) {
        blockStartPrefix(index)
        writer.appendRaw("{\"type\":\"text\",\"text\":\"\"}}\n\n")
    }

    mutating func thinkingStart(_ index: Int) {
        blockStartPrefix(index)
        writer.appendRaw("{\"type\":\"thinking\",\"thinking\":\"\",\"signature\":\"\"}}\n\n")
    }

    mutating func toolStart(_ index: Int, id: String, name: String) {
        blockStartPrefix(index)
        writer.appendRaw("{\"type\":\"tool_use\",\"id\":")
        writer.writeString(id)
        writer.appendRaw(",\"name\":")
        writer.writeString(name)
        writer.appendRaw(",\"input\":{}}}\n\n")
    }

    mutating func redactedThinking(_ index: Int, data: String) {
        blockStartPrefix(index)
        writer.appendRaw("{\"type\":\"redacted_thinking\",\"data\":")
        writer.writeString(data)
        writer.appendRaw("}}\n\n")
        blockStop(index)
    }

    private mutating func blockStartPrefix(_ index: Int) {
        writer.appendRaw("event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":")
        writer.writeInt(Int64(index))
        writer.appendRaw(",\"content_block\":")
    }

    /// A delta whose payload is one string field: text_delta, thinking_delta, signature_delta,
    /// input_json_delta.
    mutating func delta(_ index: Int, kind: DeltaKind, _ value: String) {
        guard scrubber != nil, kind != .signature else { return writeDelta(index, kind: kind, value) }
        if kind == .inputJSON {
            // Tool-argument fragments keep their exact boundaries (they pass through verbatim):
            // a secret inside one fragment is blanked, nothing is held back across fragments.
            return writeDelta(index, kind: kind, value.redacting(scrubber!.secrets))
        }
        let safe = scrubber!.scrub(Array(value.utf8))  // in place: the held tail is not copied
        heldKind = kind
        if !safe.isEmpty { writeDelta(index, kind: kind, String(decoding: safe, as: UTF8.self)) }
    }

    private mutating func writeDelta(_ index: Int, kind: DeltaKind, _ value: String) {
        writer.appendRaw("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":")
        writer.writeInt(Int64(index))
        switch kind {
        case .text: writer.appendRaw(",\"delta\":{\"type\":\"text_delta\",\"text\":")
        case .thinking: writer.appendRaw(",\"delta\":{\"type\":\"thinking_delta\",\"thinking\":")
        case .signature: writer.appendRaw(",\"delta\":{\"type\":\"signature_delta\",\"signature\":")
        case .inputJSON: writer.appendRaw(",\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":")
        }
        writer.writeString(value)
        writer.appendRaw("}}\n\n")
    }

    enum DeltaKind { case text, thinking, signature, inputJSON }

    mutating func blockStop(_ index: Int) {
        if let kind = heldKind {
            heldKind = nil
            let rest = scrubber!.finish()
            if !rest.isEmpty { writeDelta(index, kind: kind, String(decoding: rest, as: UTF8.self)) }
        }
        writer.appendRaw("event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":")
        writer.writeInt(Int64(index))
        writer.appendRaw("}\n\n")
    }

    mutating func messageDelta(stopReason: String, stopSequence: String?, usage: Usage) {
        writer.appendRaw("event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":")
        writer.writeString(stopReason)
        writer.appendRaw(",\"stop_sequence\":")
        if let stopSequence { writer.writeString(stopSequence) } else { writer.appendRaw("null") }
        writer.appendRaw("},\"usage\":")
        writer.write(usage.json)
        writer.appendRaw("}\n\n")
    }

    mutating func messageStop() {
        writer.appendRaw("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n")
    }

    mutating func ping() {
        writer.appendRaw("event: ping\ndata: {\"type\":\"ping\"}\n\n")
    }

    mutating func error(type: AnthropicErrorType, message: String) {
        writer.appendRaw(contentsOf: ErrorEnvelope.sseEvent(type: type, message: message))
    }
}
