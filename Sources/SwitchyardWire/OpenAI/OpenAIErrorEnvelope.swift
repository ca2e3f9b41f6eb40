/// Renders errors in OpenAI's envelope, `{"error":{"message","type","param","code"}}`, from the
/// gateway's Anthropic error types (docs/openai-front-door.md "Errors the gateway writes").
public enum OpenAIErrorEnvelope {
    /// OpenAI's `type` and `code` for an Anthropic error type.
    public static func typeAndCode(_ type: AnthropicErrorType) -> (type: String, code: String?) {
        switch type {
        case .invalidRequest: return ("invalid_request_error", nil)
        case .authentication: return ("authentication_error", "invalid_api_key")
        case .billing: return ("insufficient_quota", "insufficient_quota")
        case .permission: return ("permission_error", nil)
        case .notFound: return ("not_found_error", nil)
        case .requestTooLarge: return ("invalid_request_error", "request_too_large")
        case .rateLimit: return ("rate_limit_error", "rate_limit_exceeded")
        case .timeout: return ("timeout_error", nil)
        case .overloaded: return ("server_error", "overloaded")
        case .api: return ("server_error", nil)
        }
    }

    /// The HTTP status an OpenAI client gets: the Anthropic one, except 529 (not an HTTP status
    /// OpenAI clients know) → 503.
    public static func status(_ anthropicStatus: Int) -> Int {
        anthropicStatus == 529 ? 503 : anthropicStatus
    }

    /// The error object; `code` overrides the type's default code.
    public static func object(type: AnthropicErrorType, message: String, code: String? = nil) -> JSONValue {
        let mapped = typeAndCode(type)
        return .object([
            "error": .object([
                "message": .string(message), "type": .string(mapped.type), "param": .null,
                "code": (code ?? mapped.code).map { .string($0) } ?? .null,
            ])
        ])
    }

    public static func json(type: AnthropicErrorType, message: String, code: String? = nil) -> [UInt8] {
        JSONWriter.encode(object(type: type, message: message, code: code))
    }

    /// `data: {"error":…}` ending a committed stream (the OpenAI SDKs raise on a data event with
    /// an `error` key).
    public static func sseEvent(type: AnthropicErrorType, message: String, code: String? = nil) -> [UInt8] {
        var w = JSONWriter(capacity: 160)
        w.appendRaw("data: ")
        w.write(object(type: type, message: message, code: code))
        w.appendRaw("\n\n")
        return w.bytes
    }

    /// The code for an upstream failure whose kind says more than its type.
    public static func code(for failure: UpstreamFailure) -> String? {
        failure.kind == .contextLength ? "context_length_exceeded" : nil
    }
}
