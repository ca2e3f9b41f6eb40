/// The accepted range of every duration, size and count key (README "Limits of every key").
/// Values are untrusted: outside its range a value is a `check` error with its path and line, so
/// nothing a config says can overflow a timer, a buffer size or a counter later.
enum ConfigRanges {
    static let readTimeout: ClosedRange<Duration> = .seconds(1) ... .seconds(3600)
    static let shutdownGrace: ClosedRange<Duration> = .zero ... .seconds(3600)
    static let connectTimeout: ClosedRange<Duration> = .milliseconds(10) ... .seconds(600)
    static let firstByteTimeout: ClosedRange<Duration> = .milliseconds(100) ... .seconds(3600)
    static let idleTimeout: ClosedRange<Duration> = .milliseconds(100) ... .seconds(3600)
    static let cooldown: ClosedRange<Duration> = .zero ... .seconds(86_400)

    static let maxBodyBytes: ClosedRange<Int> = (1 << 10)...(1 << 30)
    static let maxHeaderBytes: ClosedRange<Int> = (1 << 10)...(1 << 20)
    static let maxResponseBytes: ClosedRange<Int> = (1 << 10)...(1 << 30)

    static let serverConnections: ClosedRange<Int> = 1...1_000_000
    static let providerConnections: ClosedRange<Int> = 1...100_000
    static let retriesPerTarget: ClosedRange<Int> = 0...10
    static let rpm: ClosedRange<Int> = 1...1_000_000_000
    static let tpm: ClosedRange<Int> = 1...1_000_000_000_000
    static let concurrent: ClosedRange<Int> = 1...1_000_000
    static let targetMaxTokens: ClosedRange<Int> = 1...10_000_000
    static let minInputTokens: ClosedRange<Int> = 0...1_000_000_000

    static let retention: ClosedRange<Duration> = .seconds(3600) ... .seconds(3650 * 86_400)
    static let flushInterval: ClosedRange<Duration> = .milliseconds(50) ... .seconds(60)
    static let statePool: ClosedRange<Int> = 1...256
    /// $1000 per million tokens: keeps every cost sum inside 64 bits.
    static let maxPicoPerToken: Int64 = 1_000_000_000
    static let maxBudgetMicroUSD: Int64 = 1_000_000_000_000_000

    /// `250ms`, `5s`, `2m`, `1h`: the largest unit that writes the value whole.
    static func describe(_ d: Duration) -> String {
        let ms = d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000
        for (unit, size) in [("d", Int64(86_400_000)), ("h", 3_600_000), ("m", 60_000), ("s", 1000)] where ms >= size && ms % size == 0 {
            return "\(ms / size)\(unit)"
        }
        return "\(ms)ms"
    }

    /// `64KiB`, `32MiB`, `1GiB`, or plain bytes.
    static func describe(bytes: Int) -> String {
        for (unit, size) in [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] where bytes >= size && bytes % size == 0 {
            return "\(bytes / size)\(unit)"
        }
        return "\(bytes)"
    }
}
