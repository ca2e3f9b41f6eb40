import NIOConcurrencyHelpers

/// The fallback circuit breaker, keyed by target label and kept across reloads. A target that
/// failed is skipped until its cooldown ends; then one request is let through as a trial: success
/// closes the breaker, failure opens it again.
public final class CooldownTable: Sendable {
    enum Entry {
        case cooling(until: UInt64)
        case trial(until: UInt64)
    }

    private let entries = NIOLockedValueBox<[String: Entry]>([:])
    /// Failed attempts that moved on (a retry or the next target), per target, since start.
    private let fallbacks = NIOLockedValueBox<[String: Int]>([:])
    /// How long a trial may run before another request may try.
    let trialWindowNanos: UInt64 = 60_000_000_000
    /// Told of every new cooldown (the shared state publishes it to the other replicas).
    private let failureObserver = NIOLockedValueBox<(@Sendable (String, UInt64) -> Void)?>(nil)

    public init() {}

    /// Sets who hears of each new cooldown: the target and its length in nanoseconds.
    public func observeFailures(_ observer: @escaping @Sendable (String, UInt64) -> Void) {
        failureObserver.withLockedValue { $0 = observer }
    }

    /// A cooldown another replica saw, until `until` (monotonic nanoseconds here); a longer one
    /// already known is kept, and the observer is not told (it came from the others).
    public func adopt(_ label: String, until: UInt64) {
        entries.withLockedValue { table in
            switch table[label] {
            case .cooling(let known)? where known >= until: return
            default: table[label] = .cooling(until: until)
            }
        }
    }

    /// Whether a request may use the target now; claims the trial slot when a cooldown just ended.
    public func admit(_ label: String, now: UInt64) -> Bool {
        entries.withLockedValue { table in
            switch table[label] {
            case nil: return true
            case .cooling(let until):
                guard now >= until else { return false }
                table[label] = .trial(until: now + trialWindowNanos)
                return true
            case .trial(let until):
                guard now >= until else { return false }
                table[label] = .trial(until: now + trialWindowNanos)
                return true
            }
        }
    }

    /// When the target's cooldown ends (nil when it is not cooling down).
    public func cooldownEnd(_ label: String) -> UInt64? {
        entries.withLockedValue { table in
            switch table[label] {
            case .cooling(let until), .trial(let until): return until
            case nil: return nil
            }
        }
    }

    public func recordFailure(_ label: String, cooldownNanos: UInt64, now: UInt64) {
        guard cooldownNanos > 0 else { return }
        entries.withLockedValue { $0[label] = .cooling(until: now.addingSaturated(cooldownNanos)) }
        failureObserver.withLockedValue { $0 }?(label, cooldownNanos)
    }

    public func recordSuccess(_ label: String) {
        entries.withLockedValue { table in
            if table[label] != nil { table[label] = nil }
        }
    }

    public func recordFallback(_ label: String) {
        fallbacks.withLockedValue { $0[label, default: 0] += 1 }
    }

    public func fallbackCount(_ label: String) -> Int {
        fallbacks.withLockedValue { $0[label] ?? 0 }
    }

    /// Whether the target is skipped now.
    public func isCooling(_ label: String, now: UInt64) -> Bool {
        entries.withLockedValue { table in
            if case .cooling(let until) = table[label] { return now < until }
            return false
        }
    }

    /// Labels cooling down now (for metrics).
    public func coolingCount(now: UInt64) -> Int {
        entries.withLockedValue { table in
            table.values.filter { if case .cooling(let u) = $0 { return now < u } else { return false } }.count
        }
    }

    /// Drops entries for targets that no longer exist (after a reload).
    public func retain(only labels: Set<String>) {
        entries.withLockedValue { table in table = table.filter { labels.contains($0.key) } }
    }
}
