import SwitchyardWire

/// `state:` — where usage records and spend live.
public struct StateSettings: Sendable, Equatable {
    public enum Backend: Sendable, Equatable {
        /// An SQLite file (absolute path, resolved at load).
        case sqlite(path: String)
        /// A PostgreSQL URL (scale-out.md).
        case postgres(url: String)
        case off
    }

    public var backend: Backend
    /// Per-request rows older than this are rolled up by day and deleted.
    public var retention: Duration
    /// Records are written at least this often.
    public var flushInterval: Duration
    /// PostgreSQL connections per replica for the shared limits (scale-out.md).
    public var pool = 8
    /// What limits do while PostgreSQL is unreachable.
    public var unavailable: Unavailable = .local
    /// Where records the store could not take before exit wait for the next start (beside the
    /// SQLite default: `$STATE_DIRECTORY` or `./data`).
    public var spoolPath: String?

    /// `state.unavailable`.
    public enum Unavailable: String, Sendable, Equatable {
        /// Keep serving, with each replica's own counters.
        case local
        /// Refuse rate-limited and budgeted requests with 529 until it is back.
        case closed
    }

    public init(backend: Backend, retention: Duration, flushInterval: Duration) {
        self.backend = backend
        self.retention = retention
        self.flushInterval = flushInterval
    }

    public static let `default` = StateSettings(
        backend: .sqlite(path: "data/switchyard.sqlite"), retention: .seconds(90 * 86_400),
        flushInterval: .seconds(1))

    /// Limits and budgets are shared through the store (PostgreSQL only).
    public var sharesLimits: Bool {
        if case .postgres = backend { return true }
        return false
    }
}

/// `providers.*.cost`: where a request's cost comes from.
public enum CostSource: String, Sendable {
    /// The upstream's reported cost (OpenRouter's `usage.cost`), else the price table.
    case upstream
    /// The price table only.
    case prices
}

/// `providers.*.prices`: upstream model globs to prices, first match wins.
public struct PriceTable: Sendable {
    public var entries: [(glob: ModelGlob, price: Price)]

    public init(entries: [(glob: ModelGlob, price: Price)] = []) {
        self.entries = entries
    }

    public func price(for model: String) -> Price? {
        let name = Array(model.lowercased().utf8)
        return entries.first { $0.glob.matches(lowercasedUTF8: name) }?.price
    }
}

/// `budget:` inside a `limits` block: a hard cap in USD per UTC calendar period.
public struct Budget: Sendable, Equatable {
    public enum Period: String, Sendable { case day, week, month, total }
    public var limitMicroUSD: Int64
    public var period: Period
    /// Fraction of the budget that logs a warning once per period (nil: never).
    public var warnAt: Double?

    public init(limitMicroUSD: Int64, period: Period, warnAt: Double? = nil) {
        self.limitMicroUSD = limitMicroUSD
        self.period = period
        self.warnAt = warnAt
    }
}
