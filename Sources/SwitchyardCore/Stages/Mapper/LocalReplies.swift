import SwitchyardWire

/// Answers the gateway gives without an upstream.
enum LocalReplies {
    /// `max_tokens: 0` (a cache pre-warm): an empty message, as non-stream JSON or as SSE.
    static func emptyMessage(_ request: MessagesRequest, estimate: Int) -> Reply {
        let usage = Usage(inputTokens: estimate)
        let id = Identifiers.messageID()
        if request.stream {
            var w = JSONWriter(capacity: 512)
            w.appendRaw("event: message_start\ndata: ")
            w.write(.object(["type": .string("message_start"), "message": .object([
                "id": .string(id), "type": .string("message"), "role": .string("assistant"), "model": .string(request.model),
                "content": .array([]), "stop_reason": .null, "stop_sequence": .null, "usage": Usage().json,
            ])]))
            w.appendRaw("\n\nevent: message_delta\ndata: ")
            w.write(.object(["type": .string("message_delta"),
                             "delta": .object(["stop_reason": .string("max_tokens"), "stop_sequence": .null]), "usage": usage.json]))
            w.appendRaw("\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n")
            return Reply(status: 200, headers: SSEHeaders.all, body: .bytes(w.bytes))
        }
        let body: JSONValue = .object([
            "id": .string(id), "type": .string("message"), "role": .string("assistant"), "model": .string(request.model),
            "content": .array([]), "stop_reason": .string("max_tokens"), "stop_sequence": .null, "usage": usage.json,
        ])
        return .json(200, JSONWriter.encode(body))
    }
}

/// Response headers of an SSE reply.
enum SSEHeaders {
    static let all: [(String, String)] = [
        ("content-type", "text/event-stream; charset=utf-8"), ("cache-control", "no-cache"), ("x-accel-buffering", "no"),
    ]
}
