import SwitchyardWire

/// The protocol a client speaks, which decides the envelope of every error the gateway writes to
/// it: Anthropic's `{"type":"error","error":{…}}` or OpenAI's `{"error":{…}}` (with 529 → 503).
public enum InboundProtocol: Sendable {
    case anthropic
    case openAI

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
