import SwitchyardWire

/// Money without floating point. Spend and budgets are integer micro-dollars (1 USD =
/// 1,000,000); prices are integer pico-dollars per token (1 USD per million tokens = 1,000,000
/// pico-dollars per token), so a cost is an exact integer sum rounded once, half up, to the
/// micro-dollar.
public enum Money {
    /// Micro-dollars from a decimal USD text (`50`, `0.30`, `12.5`): nil for anything else or
    /// more than six decimals.
    public static func microUSD(_ text: String) -> Int64? { decimal(text, scale: 6) }

    /// Pico-dollars per token from a USD-per-million-tokens decimal text: nil beyond six decimals.
    public static func picoPerToken(usdPerMillion text: String) -> Int64? { decimal(text, scale: 6) }

    /// `12.345678` → 12_345_678 at scale 6; digits and one point only.
    static func decimal(_ text: String, scale: Int) -> Int64? {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let whole = parts[0]
        var fraction = parts.count == 2 ? parts[1] : ""
        let digits = { (s: String) in s.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }
        guard !(whole.isEmpty && fraction.isEmpty), whole.count <= 12, digits(whole), digits(fraction) else { return nil }
        while fraction.count > scale && fraction.hasSuffix("0") { fraction.removeLast() }
        guard fraction.count <= scale else { return nil }
        fraction += String(repeating: "0", count: scale - fraction.count)
        var unit: Int64 = 1
        for _ in 0..<scale { unit *= 10 }
        return (Int64(whole) ?? 0) * unit + (Int64(fraction) ?? 0)
    }

    /// `$12.35` style text of micro-dollars, for messages: cents from a dollar up; below it every
    /// significant decimal (`$0.0247`, `$0.000315`), so a small spend is never rounded away.
    public static func format(_ micro: Int64) -> String {
        let negative = micro < 0
        let m = micro.magnitude
        let text: String
        if m >= 1_000_000 {
            let cents = (m + 5_000) / 10_000
            text = "\(cents / 100).\(pad(cents % 100, 2))"
        } else {
            var decimals = pad(m, 6)
            while decimals.count > 2 && decimals.hasSuffix("0") { decimals.removeLast() }
            text = "0.\(decimals)"
        }
        return (negative ? "-$" : "$") + text
    }

    /// Micro-dollars as a JSON-friendly decimal number of dollars (display only).
    public static func dollars(_ micro: Int64) -> Double { Double(micro) / 1_000_000 }

    static func pad(_ v: UInt64, _ width: Int) -> String {
        let s = String(v)
        return String(repeating: "0", count: max(width - s.count, 0)) + s
    }
}

/// A provider's price for one upstream model, in pico-dollars per token.
public struct Price: Sendable, Equatable {
    public var input: Int64
    public var output: Int64
    public var cacheRead: Int64
    public var cacheWrite: Int64

    /// `cache_read` defaults to the input price, `cache_write` to 1.25 × input.
    public init(input: Int64, output: Int64, cacheRead: Int64? = nil, cacheWrite: Int64? = nil) {
        self.input = input
        self.output = output
        self.cacheRead = cacheRead ?? input
        self.cacheWrite = cacheWrite ?? input * 5 / 4
    }

    /// The exact cost of a usage, in micro-dollars (rounded half up once). Counts are at most
    /// 1e9 and prices at most 1e9 pico per token, so the sum cannot overflow.
    public func costMicroUSD(_ usage: Usage) -> Int64 {
        let pico =
            Int64(usage.inputTokens) * input + Int64(usage.outputTokens) * output
            + Int64(usage.cacheReadInputTokens) * cacheRead + Int64(usage.cacheCreationInputTokens) * cacheWrite
        return (pico + 500_000) / 1_000_000
    }
}
