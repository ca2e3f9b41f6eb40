import Foundation

/// Why an upstream attempt failed, classified for fallback decisions and mapped to what the
/// client sees (translation-spec §5.3).
public struct UpstreamFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// Failure classes; the first five are the `fallback.on` kinds of the config.
    public enum Kind: String, Sendable, Equatable {
        case rateLimited = "rate_limited"
        case serverError = "server_error"
        case timeout
        case connectError = "connect_error"
        case contextLength = "context_length"
        case badRequest = "bad_request"
        case authentication
        case billing
        case permission
        case notFound = "not_found"
        case tooLarge = "too_large"
        /// A 2xx answer that is not what was asked for: HTML, truncated JSON, an error body.
        case badResponse = "bad_response"
    }

    public var kind: Kind
    /// The upstream HTTP status, when one was received.
    public var upstreamStatus: Int?
    /// Human-readable, secret-free text (upstream message kept).
    public var message: String
    /// The upstream's `Retry-After` advice, bounded (`RetryAfter`); nil when absent or unusable.
    public var retryAfterSeconds: Double?
    /// The upstream sent a `Retry-After` that is unusable (huge, negative, not a number): it
    /// asked for a wait the gateway will not honour, so a retry here is pointless.
    public var retryAfterUnusable: Bool

    /// `retryAfter` is the raw upstream header; it is parsed and bounded here.
    public init(kind: Kind, upstreamStatus: Int? = nil, message: String, retryAfter: String? = nil) {
        self.kind = kind
        self.upstreamStatus = upstreamStatus
        self.message = message
        self.retryAfterSeconds = retryAfter.flatMap { RetryAfter.seconds($0) }
        self.retryAfterUnusable = retryAfter != nil && retryAfterSeconds == nil
    }

    public var description: String { "\(kind.rawValue): \(message)" }

    /// The same failure with every occurrence of the given secrets (the upstream key: some
    /// providers quote it back in "invalid key" errors) replaced by `***`.
    public func redacting(_ secrets: [String]) -> UpstreamFailure {
        var copy = self
        copy.message = message.redacting(secrets)
        return copy
    }

    /// The same failure met after the stream was committed: a connection that breaks mid-stream
    /// (reset, or closed in the middle of a chunk) cut a reply that had started, so the client
    /// sees `api_error`, as for a clean early end; `overloaded_error` stays for connections that
    /// failed before any byte (translation-spec §5.4).
    public var afterCommit: UpstreamFailure {
        guard kind == .connectError else { return self }
        var copy = self
        copy.kind = .badResponse
        return copy
    }

    /// The `fallback.on` class of this failure: a malformed or truncated answer counts as a
    /// server error.
    public var fallbackKind: Kind {
        kind == .badResponse || kind == .notFound ? .serverError : kind
    }

    /// The downstream status and Anthropic error type.
    public var downstream: (status: Int, type: AnthropicErrorType) {
        switch kind {
        case .rateLimited: return (429, .rateLimit)
        case .timeout: return (504, .timeout)
        case .connectError: return (529, .overloaded)
        case .contextLength, .badRequest:
            if let s = upstreamStatus, s != 400, s != 422, (400..<500).contains(s) { return (s, .invalidRequest) }
            return (400, .invalidRequest)
        case .authentication: return (500, .api)
        case .billing: return (402, .billing)
        case .permission: return (403, .permission)
        // Claude Code hides a 404's message ("issue with the selected model"); an upstream that
        // does not serve the routed model is the gateway's problem, so it is a 502 with the text.
        case .notFound: return (502, .api)
        case .tooLarge: return (413, .requestTooLarge)
        case .badResponse: return (502, .api)
        case .serverError:
            switch upstreamStatus {
            case 502, 503, 529: return (529, .overloaded)
            case 504: return (504, .timeout)
            case .some(let s) where (500..<600).contains(s): return (s, .api)
            default: return (529, .overloaded)
            }
        }
    }

    /// Headers the client gets with this failure: `retry-after` passed on, and
    /// `x-should-retry: false` where retrying cannot help.
    public var responseHeaders: [(String, String)] {
        var headers: [(String, String)] = []
        if let retryAfterSeconds { headers.append(("retry-after", String(Int(retryAfterSeconds.rounded(.up))))) }
        if kind == .billing || kind == .authentication { headers.append(("x-should-retry", "false")) }
        return headers
    }

    /// Classifies an upstream HTTP status.
    public static func kind(forStatus status: Int) -> Kind {
        switch status {
        case 429: return .rateLimited
        case 401: return .authentication
        case 402: return .billing
        case 403: return .permission
        case 404: return .notFound
        case 408: return .timeout
        case 413: return .tooLarge
        case 400..<500: return .badRequest
        default: return .serverError
        }
    }
}
