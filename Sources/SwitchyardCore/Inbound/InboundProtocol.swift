import SwitchyardWire

/// The protocol a client speaks, which decides the envelope of every error the gateway writes to
/// it: Anthropic's `{"type":"error","error":{…}}` or OpenAI's `{"error":{…}}` (with 529 → 503).
public enum InboundProtocol: Sendable {
    case anthropic
    case openAI

    /// The keep-alive written into a quiet stream: Anthropic's `ping` event, or an SSE comment
    /// for OpenAI clients (their SDKs would parse any named event as a chunk).
    public var keepAliveEvent: [UInt8] {
        switch self {
        case .anthropic: return Self.anthropicPing
        case .openAI: return Self.commentPing
        }
    }

    static let anthropicPing = Array("event: ping\ndata: {\"type\":\"ping\"}\n\n".utf8)
    static let commentPing = Array(": ping\n\n".utf8)

    /// The terminal error event of a stream in this protocol.
    public func sseError(type: AnthropicErrorType, message: String) -> [UInt8] {
        switch self {
        case .anthropic: return ErrorEnvelope.sseEvent(type: type, message: message)
        case .openAI: return OpenAIErrorEnvelope.sseEvent(type: type, message: message)
        }
    }

    /// Status, headers and body of an error answer in this protocol's envelope.
    public func render(_ error: GatewayError, requestID: String) -> (status: Int, headers: [(String, String)], body: [UInt8]) {
        let r = error.rendered
        switch self {
        case .anthropic:
            return (r.status, r.headers, ErrorEnvelope.json(type: r.type, message: r.message, requestID: requestID))
        case .openAI:
            return (OpenAIErrorEnvelope.status(r.status), r.headers, OpenAIErrorEnvelope.json(type: r.type, message: r.message, code: error.openAICode))
        }
    }
}
