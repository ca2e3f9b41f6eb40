import SwitchyardWire

/// Every error the gateway answers with. One exhaustive switch maps each code to an HTTP status
/// and an Anthropic error type; messages never carry secrets (upstream keys and tokens are not
/// reachable from here, and upstream bodies are quoted only after parsing).
public struct GatewayError: Error, Sendable, CustomStringConvertible {
    enum Code: Sendable {
        case invalidRequest(String)
        case unauthenticated(String)
        case forbidden(String)
        case notFound(String)
        case modelNotServed(String)
        case methodNotAllowed(String)
        case requestTooLarge(Int)
        case rateLimited(message: String, retryAfterSeconds: Int?, headers: [(String, String)])
        case overloaded(String)
        case budgetExceeded(String)
        case upstreamKeyMissing(provider: String, variable: String?)
        case upstream(UpstreamFailure, target: String)
        case internalError(String)
    }

    let code: Code

    public static func invalidRequest(_ message: String) -> GatewayError { GatewayError(code: .invalidRequest(message)) }
    public static func unauthenticated(_ message: String) -> GatewayError { GatewayError(code: .unauthenticated(message)) }
    public static func forbidden(_ message: String) -> GatewayError { GatewayError(code: .forbidden(message)) }
    public static func notFound(_ message: String) -> GatewayError { GatewayError(code: .notFound(message)) }
    /// No route serves the requested model (OpenAI code `model_not_found`).
    public static func modelNotServed(_ model: String) -> GatewayError {
        GatewayError(code: .modelNotServed("model: \(quoted(model)) is not served by any route"))
    }
    public static func methodNotAllowed(_ message: String) -> GatewayError { GatewayError(code: .methodNotAllowed(message)) }
    public static func requestTooLarge(limit: Int) -> GatewayError { GatewayError(code: .requestTooLarge(limit)) }
    public static func rateLimited(_ message: String, retryAfterSeconds: Int?, headers: [(String, String)]) -> GatewayError {
        GatewayError(code: .rateLimited(message: message, retryAfterSeconds: retryAfterSeconds, headers: headers))
    }
    public static func overloaded(_ message: String) -> GatewayError { GatewayError(code: .overloaded(message)) }
    /// A budget refused the request (402: Claude Code shows the message and stops, where a 429
    /// would make it retry for minutes).
    public static func budgetExceeded(_ message: String) -> GatewayError { GatewayError(code: .budgetExceeded(message)) }
    public static func upstreamKeyMissing(provider: String, variable: String?) -> GatewayError {
        GatewayError(code: .upstreamKeyMissing(provider: provider, variable: variable))
    }
    public static func upstream(_ failure: UpstreamFailure, target: String) -> GatewayError {
        GatewayError(code: .upstream(failure, target: target))
    }
    public static func internalError(_ message: String) -> GatewayError { GatewayError(code: .internalError(message)) }

    public var status: Int { rendered.status }
    public var type: AnthropicErrorType { rendered.type }
    public var message: String { rendered.message }
    public var description: String { "\(status) \(type.rawValue): \(message)" }

    /// The upstream failure behind this error, if any.
    public var upstreamFailure: UpstreamFailure? {
        if case .upstream(let f, _) = code { return f }
        return nil
    }

    /// The OpenAI envelope's `code` where it says more than the error type's default.
    public var openAICode: String? {
        switch code {
        case .modelNotServed: return "model_not_found"
        case .upstream(let failure, _): return OpenAIErrorEnvelope.code(for: failure)
        default: return nil
        }
    }

    /// The same error with secrets blanked out of an upstream failure's message.
    public func redactingUpstream(_ secrets: [String]) -> GatewayError {
        guard case .upstream(let failure, let target) = code else { return self }
        return .upstream(failure.redacting(secrets), target: target)
    }

    /// Status, type, message and extra response headers.
    public var rendered: (status: Int, type: AnthropicErrorType, message: String, headers: [(String, String)]) {
        switch code {
        case .invalidRequest(let m): return (400, .invalidRequest, m, [])
        case .unauthenticated(let m): return (401, .authentication, m, [])
        case .forbidden(let m): return (403, .permission, m, [])
        case .notFound(let m), .modelNotServed(let m): return (404, .notFound, m, [])
        case .methodNotAllowed(let m): return (405, .invalidRequest, m, [])
        case .requestTooLarge(let limit):
            return (413, .requestTooLarge, "request body is larger than the gateway's limit of \(limit) bytes (server.max_body_bytes)", [])
        case .rateLimited(let m, let retry, let headers):
            return (429, .rateLimit, m, (retry.map { [("retry-after", String($0))] } ?? []) + headers)
        case .overloaded(let m): return (529, .overloaded, m, [])
        case .budgetExceeded(let m): return (402, .billing, m, [("x-should-retry", "false")])
        case .upstreamKeyMissing(let provider, let variable):
            let hint = variable.map { "set the environment variable \($0) and restart the gateway" } ?? "configure providers.\(provider).api_key"
            return (500, .api, "no upstream API key for provider \"\(provider)\": \(hint)", [("x-should-retry", "false")])
        case .upstream(let failure, let target):
            let (status, type) = failure.downstream
            let text = failure.kind == .contextLength ? failure.message : "[\(target)] \(failure.message)"
            return (status, type, text, failure.responseHeaders)
        case .internalError(let m): return (500, .api, m, [])
        }
    }
}
