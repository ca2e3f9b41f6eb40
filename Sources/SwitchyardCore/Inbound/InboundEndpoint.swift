/// What a request path asks for (the query is ignored). `/anthropic/…` is an alias of the
/// Anthropic paths and `/openai/v1/…` of the OpenAI ones, for clients that want a base URL per
/// protocol.
public enum InboundEndpoint: Equatable, Sendable {
    case messages, countTokens, chatCompletions, models
    case model(String)
    case health, hello, metrics, usage, usageBudget, ui

    public init?(path: String) {
        var p = Substring(path)
        if p.hasPrefix("/anthropic/") {
            p = p.dropFirst("/anthropic".count)
        } else if p.hasPrefix("/openai/v1/") {
            p = p.dropFirst("/openai".count)
            while p.count > 1 && p.hasSuffix("/") { p = p.dropLast() }
            guard p == "/v1/chat/completions" || p == "/v1/models" || p.hasPrefix("/v1/models/") else { return nil }
        }
        while p.count > 1 && p.hasSuffix("/") { p = p.dropLast() }
        switch p {
        case "/v1/messages": self = .messages
        case "/v1/messages/count_tokens": self = .countTokens
        case "/v1/chat/completions": self = .chatCompletions
        case "/v1/models": self = .models
        case "/health": self = .health
        case "/api/hello", "/": self = .hello
        case "/metrics": self = .metrics
        case "/v1/usage": self = .usage
        case "/v1/usage/budget": self = .usageBudget
        case "/ui": self = .ui
        default:
            guard p.hasPrefix("/v1/models/") else { return nil }
            self = .model(String(p.dropFirst("/v1/models/".count)))
        }
    }

    /// The pipeline endpoint, for the paths that run a call.
    public var callEndpoint: Call.Endpoint? {
        switch self {
        case .messages: return .messages
        case .countTokens: return .countTokens
        case .chatCompletions: return .chatCompletions
        default: return nil
        }
    }
}
