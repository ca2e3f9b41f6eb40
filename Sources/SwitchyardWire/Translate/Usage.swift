/// Token usage in Anthropic terms (translation-spec §3.6).
public struct Usage: Sendable, Equatable {
    public var inputTokens: Int
    public var outputTokens: Int
    public var cacheReadInputTokens: Int
    public var cacheCreationInputTokens: Int

    public init(inputTokens: Int = 0, outputTokens: Int = 0, cacheReadInputTokens: Int = 0, cacheCreationInputTokens: Int = 0) {
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.cacheReadInputTokens = cacheReadInputTokens
        self.cacheCreationInputTokens = cacheCreationInputTokens
    }

    /// From an OpenAI `usage` object: cached and cache-written tokens leave `input_tokens`.
    public init?(openAI usage: JSONValue?) {
        guard let usage, case .object = usage else { return nil }
        let prompt = Int(usage["prompt_tokens"]?.intValue ?? 0)
        let details = usage["prompt_tokens_details"]
        let cached = Int(details?["cached_tokens"]?.intValue ?? usage["prompt_cache_hit_tokens"]?.intValue ?? 0)
        let written = Int(details?["cache_write_tokens"]?.intValue ?? 0)
        self.init(
            inputTokens: max(prompt - cached - written, 0),
            outputTokens: Int(usage["completion_tokens"]?.intValue ?? 0),
            cacheReadInputTokens: cached,
            cacheCreationInputTokens: written)
    }

    /// Merges an Anthropic `usage` object: present keys overwrite (as the SDK accumulates
    /// message_start and message_delta usage).
    public mutating func merge(anthropic usage: JSONValue) {
        if let v = usage["input_tokens"]?.intValue { inputTokens = Int(v) }
        if let v = usage["output_tokens"]?.intValue { outputTokens = Int(v) }
        if let v = usage["cache_read_input_tokens"]?.intValue { cacheReadInputTokens = Int(v) }
        if let v = usage["cache_creation_input_tokens"]?.intValue { cacheCreationInputTokens = Int(v) }
    }

    /// The four-key Anthropic usage object.
    public var json: JSONValue {
        .object([
            "input_tokens": .int(Int64(inputTokens)),
            "cache_creation_input_tokens": .int(Int64(cacheCreationInputTokens)),
            "cache_read_input_tokens": .int(Int64(cacheReadInputTokens)),
            "output_tokens": .int(Int64(outputTokens)),
        ])
    }

    /// Every input token, cached or not (what limits and logs count).
    public var totalInputTokens: Int { inputTokens + cacheReadInputTokens + cacheCreationInputTokens }
}
