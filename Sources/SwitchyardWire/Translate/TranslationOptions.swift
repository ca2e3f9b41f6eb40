/// Which OpenAI-compatible flavour an upstream speaks (config `providers.*.dialect`).
public enum Dialect: String, Sendable, CaseIterable {
    /// OpenRouter: `reasoning`, `reasoning_details`, `top_k`, `user`, `max_tokens`.
    case openrouter
    /// OpenAI proper and generic servers: `reasoning_effort`, `max_completion_tokens`, `safety_identifier`.
    case openai
}

/// Per-target settings of the Anthropic → OpenAI request translation, fixed per config snapshot.
public struct TranslationOptions: Sendable {
    public var dialect: Dialect
    public var upstreamModel: String
    /// Clamp for the client's max_tokens (route target `max_tokens`).
    public var maxTokensCap: Int?
    /// Drop Claude Code's per-request `x-anthropic-billing-header:` system line.
    public var stripBillingHeader: Bool
    /// Keep `cache_control` on system and user text parts (translation-spec §2.9), for upstreams
    /// that honour explicit cache breakpoints.
    public var cacheMode: Bool
    /// Ask OpenRouter to report each request's cost (`usage: {include: true}`), for accounting.
    public var requestCost: Bool

    public init(
        dialect: Dialect, upstreamModel: String, maxTokensCap: Int? = nil, stripBillingHeader: Bool = true, cacheMode: Bool? = nil,
        requestCost: Bool = false
    ) {
        self.requestCost = requestCost && dialect == .openrouter
        self.dialect = dialect
        self.upstreamModel = upstreamModel
        self.maxTokensCap = maxTokensCap
        self.stripBillingHeader = stripBillingHeader
        self.cacheMode = cacheMode ?? Self.defaultCacheMode(dialect: dialect, upstreamModel: upstreamModel)
    }

    /// Cache breakpoints are kept for Anthropic models on OpenRouter, which passes them through.
    public static func defaultCacheMode(dialect: Dialect, upstreamModel: String) -> Bool {
        dialect == .openrouter && upstreamModel.hasPrefix("anthropic/")
    }
}
