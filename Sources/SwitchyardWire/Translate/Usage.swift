/// Token usage in Anthropic terms (translation-spec §3.6).
///
/// Counts come from upstreams and are untrusted: every count is clamped to
/// `0...Usage.maxTokens` when read, a count that is not a JSON integer counts as absent, and
/// every sum saturates, so no upstream value can trap the process.
public struct Usage: Sendable, Equatable {
    /// The largest count accepted for one field (far above any real context window).
    public static let maxTokens = 1_000_000_000

    public private(set) var inputTokens: Int
    public private(set) var outputTokens: Int
    public private(set) var cacheReadInputTokens: Int
    public private(set) var cacheCreationInputTokens: Int
    /// The cost the upstream reported (OpenRouter's `usage.cost`), in micro-dollars; nil when it
    /// reported none or an unusable value (negative, not finite, over $1,000,000).
    public private(set) var upstreamCostMicroUSD: Int64?
    /// True when the counts are the gateway's estimate (the upstream reported no usage).
    public var estimated = false

    public init(inputTokens: Int = 0, outputTokens: Int = 0, cacheReadInputTokens: Int = 0, cacheCreationInputTokens: Int = 0) {
        self.inputTokens = Self.clamp(inputTokens)
        self.outputTokens = Self.clamp(outputTokens)
        self.cacheReadInputTokens = Self.clamp(cacheReadInputTokens)
        self.cacheCreationInputTokens = Self.clamp(cacheCreationInputTokens)
    }

    /// From an OpenAI `usage` object: cached and cache-written tokens leave `input_tokens`.
    public init?(openAI usage: JSONValue?) {
        guard let usage, case .object = usage else { return nil }
        let prompt = Self.count(usage["prompt_tokens"]) ?? 0
        let details = usage["prompt_tokens_details"]
        let cached = Self.count(details?["cached_tokens"]) ?? Self.count(usage["prompt_cache_hit_tokens"]) ?? 0
        let written = Self.count(details?["cache_write_tokens"]) ?? 0
        self.init(
            inputTokens: max(prompt - cached - written, 0),
            outputTokens: Self.count(usage["completion_tokens"]) ?? 0,
            cacheReadInputTokens: cached,
            cacheCreationInputTokens: written)
        upstreamCostMicroUSD = Self.costMicroUSD(usage["cost"])
    }

    /// The gateway's own estimate, marked as such.
    public static func estimate(inputTokens: Int, outputTokens: Int) -> Usage {
        var usage = Usage(inputTokens: inputTokens, outputTokens: outputTokens)
        usage.estimated = true
        return usage
    }

    /// A USD amount as micro-dollars, when it is a finite number in 0…1,000,000.
    static func costMicroUSD(_ value: JSONValue?) -> Int64? {
        guard let usd = value?.doubleValue, usd.isFinite, usd >= 0, usd <= 1_000_000 else { return nil }
        return Int64((usd * 1_000_000).rounded())
    }

    /// Merges an Anthropic `usage` object: present keys overwrite (as the SDK accumulates
    /// message_start and message_delta usage).
    public mutating func merge(anthropic usage: JSONValue) {
        if let v = Self.count(usage["input_tokens"]) { inputTokens = v }
        if let v = Self.count(usage["output_tokens"]) { outputTokens = v }
        if let v = Self.count(usage["cache_read_input_tokens"]) { cacheReadInputTokens = v }
        if let v = Self.count(usage["cache_creation_input_tokens"]) { cacheCreationInputTokens = v }
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
    public var totalInputTokens: Int { inputTokens.addingSaturated(cacheReadInputTokens).addingSaturated(cacheCreationInputTokens) }

    /// Input and output together (what the tpm limit settles with).
    public var totalTokens: Int { totalInputTokens.addingSaturated(outputTokens) }

    /// A JSON integer as a count in `0...maxTokens`; an integer too large for 64 bits (parsed as a
    /// whole-valued double) is clamped like any other; nil for anything that is not an integer
    /// (`5.5`, strings, booleans), so usage never vanishes behind a huge number.
    static func count(_ value: JSONValue?) -> Int? {
        guard let value else { return nil }
        if let v = value.intValue { return clamp(v) }
        if case .double(let d) = value, d.isFinite, d.rounded() == d { return d > 0 ? maxTokens : 0 }
        return nil
    }

    static func clamp(_ value: Int64) -> Int { Int(Swift.min(Swift.max(value, 0), Int64(maxTokens))) }
    static func clamp(_ value: Int) -> Int { clamp(Int64(value)) }
}

extension Int {
    /// `self + other`, stuck at `Int.max` / `Int.min` instead of trapping.
    @inlinable public func addingSaturated(_ other: Int) -> Int {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }

    /// `self - other`, stuck at the bounds instead of trapping.
    @inlinable public func subtractingSaturated(_ other: Int) -> Int {
        let (difference, overflow) = subtractingReportingOverflow(other)
        return overflow ? (other < 0 ? .max : .min) : difference
    }
}

extension UInt64 {
    /// `self + other`, stuck at `UInt64.max` instead of trapping.
    @inlinable public func addingSaturated(_ other: UInt64) -> UInt64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? .max : sum
    }
}
