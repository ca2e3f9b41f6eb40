/// The Anthropic error types (`error.type` of the envelope).
public enum AnthropicErrorType: String, Sendable {
    case invalidRequest = "invalid_request_error"
    case authentication = "authentication_error"
    case permission = "permission_error"
    case notFound = "not_found_error"
    case requestTooLarge = "request_too_large"
    case rateLimit = "rate_limit_error"
    case api = "api_error"
    case overloaded = "overloaded_error"
    case timeout = "timeout_error"
    case billing = "billing_error"

    /// The HTTP status Anthropic answers this type with (translation-spec §5.1).
    public var status: Int {
        switch self {
        case .invalidRequest: return 400
        case .authentication: return 401
        case .billing: return 402
        case .permission: return 403
        case .notFound: return 404
        case .requestTooLarge: return 413
        case .rateLimit: return 429
        case .api: return 500
        case .timeout: return 504
        case .overloaded: return 529
        }
    }
}

/// Renders the Anthropic error envelope and its SSE form.
public enum ErrorEnvelope {
    /// `{"type":"error","error":{"type":…,"message":…},"request_id":…}`
    public static func json(type: AnthropicErrorType, message: String, requestID: String?) -> [UInt8] {
        var o: JSONObject = ["type": .string("error"), "error": .object(["type": .string(type.rawValue), "message": .string(message)])]
        if let requestID { o.append("request_id", .string(requestID)) }
        return JSONWriter.encode(.object(o))
    }

    /// `event: error` + data, terminating a committed stream.
    public static func sseEvent(type: AnthropicErrorType, message: String) -> [UInt8] {
        var w = JSONWriter(capacity: 128)
        w.appendRaw("event: error\ndata: ")
        w.write(.object(["type": .string("error"), "error": .object(["type": .string(type.rawValue), "message": .string(message)])]))
        w.appendRaw("\n\n")
        return w.bytes
    }
}
