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

    public init(dialect: Dialect, upstreamModel: String, maxTokensCap: Int? = nil, stripBillingHeader: Bool = true) {
        self.dialect = dialect
        self.upstreamModel = upstreamModel
        self.maxTokensCap = maxTokensCap
        self.stripBillingHeader = stripBillingHeader
    }
}
