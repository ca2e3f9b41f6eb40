import SwitchyardWire

/// Answers the gateway gives without an upstream.
enum LocalReplies {
    /// `max_tokens: 0` (a cache pre-warm): an empty message, as JSON or as SSE.
    static func emptyMessage(_ request: MessagesRequest, estimate: Int) -> Reply {
        let body = LocalMessages.emptyMessage(model: request.model, estimatedInputTokens: estimate, stream: request.stream)
        return request.stream ? Reply(status: 200, headers: SSEHeaders.all, body: .bytes(body)) : .json(200, body)
    }
}

/// Response headers of an SSE reply.
enum SSEHeaders {
    static let all: [(String, String)] = [
        ("content-type", "text/event-stream; charset=utf-8"), ("cache-control", "no-cache"), ("x-accel-buffering", "no"),
    ]
}
