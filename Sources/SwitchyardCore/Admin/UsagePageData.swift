/// Everything the usage page (`GET /ui`) shows, gathered by the server from the ledger, the
/// budgets and the live state; `UsagePage.render` turns it into HTML. Money is in integer
/// micro-dollars (1 USD = 1,000,000), never floating point.
public struct UsagePageData: Sendable {
    /// RFC 3339 UTC time the page was made.
    public var generatedAt: String
    public var instance: String
    public var configGeneration: Int
    /// First 12 hex characters of the config hash.
    public var configHash: String
    /// The period the tables cover, as dates (`2026-11-03` … `2026-12-03`, UTC).
    public var since: String
    public var until: String
    /// Spend per UTC day, oldest first, every day of the range present (zero days included).
    public var days: [DaySpend]
    /// One row per user, biggest spend first.
    public var users: [UserUsage]
    /// One row per target (`provider:model`) and per route, biggest spend first.
    public var targets: [GroupUsage]
    public var routes: [GroupUsage]
    /// Every route target with its live state.
    public var health: [TargetHealth]

    public init(
        generatedAt: String, instance: String, configGeneration: Int, configHash: String, since: String, until: String,
        days: [DaySpend], users: [UserUsage], targets: [GroupUsage], routes: [GroupUsage], health: [TargetHealth]
    ) {
        self.generatedAt = generatedAt
        self.instance = instance
        self.configGeneration = configGeneration
        self.configHash = configHash
        self.since = since
        self.until = until
        self.days = days
        self.users = users
        self.targets = targets
        self.routes = routes
        self.health = health
    }
}

/// One UTC day of spend.
public struct DaySpend: Sendable, Equatable {
    /// `YYYY-MM-DD`.
    public var day: String
    public var requests: Int
    public var costMicroUSD: Int64
    public init(day: String, requests: Int, costMicroUSD: Int64) {
        self.day = day
        self.requests = requests
        self.costMicroUSD = costMicroUSD
    }
}

/// Totals of one group of ledger rows (a target, a route, a user, a model, a day).
public struct GroupUsage: Sendable, Equatable {
    public var key: String
    public var requests: Int
    public var errors: Int
    public var inputTokens: Int64
    public var outputTokens: Int64
    public var cacheReadTokens: Int64
    public var cacheWriteTokens: Int64
    public var costMicroUSD: Int64
    /// Rows whose cost is unknown (an unpriced target).
    public var unpriced: Int
    public init(
        key: String, requests: Int = 0, errors: Int = 0, inputTokens: Int64 = 0, outputTokens: Int64 = 0,
        cacheReadTokens: Int64 = 0, cacheWriteTokens: Int64 = 0, costMicroUSD: Int64 = 0, unpriced: Int = 0
    ) {
        self.key = key
        self.requests = requests
        self.errors = errors
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.cacheReadTokens = cacheReadTokens
        self.cacheWriteTokens = cacheWriteTokens
        self.costMicroUSD = costMicroUSD
        self.unpriced = unpriced
    }
}

extension GroupUsage {
    /// Both groups' totals under this key (sums wrap rather than trap; real totals are far below).
    public func adding(_ b: GroupUsage) -> GroupUsage {
        GroupUsage(
            key: key, requests: requests &+ b.requests, errors: errors &+ b.errors, inputTokens: inputTokens &+ b.inputTokens,
            outputTokens: outputTokens &+ b.outputTokens, cacheReadTokens: cacheReadTokens &+ b.cacheReadTokens,
            cacheWriteTokens: cacheWriteTokens &+ b.cacheWriteTokens, costMicroUSD: costMicroUSD &+ b.costMicroUSD,
            unpriced: unpriced &+ b.unpriced)
    }
}

/// A user's totals and, when they have one, their budget.
public struct UserUsage: Sendable, Equatable {
    public var usage: GroupUsage
    public var budget: BudgetUse?
    public init(usage: GroupUsage, budget: BudgetUse?) {
        self.usage = usage
        self.budget = budget
    }
}

/// How much of a budget is used.
public struct BudgetUse: Sendable, Equatable {
    public var limitMicroUSD: Int64
    public var spentMicroUSD: Int64
    public var reservedMicroUSD: Int64
    /// `day`, `week`, `month` or `total`.
    public var period: String
    /// RFC 3339 UTC; nil for `total`.
    public var resetsAt: String?
    public init(limitMicroUSD: Int64, spentMicroUSD: Int64, reservedMicroUSD: Int64, period: String, resetsAt: String?) {
        self.limitMicroUSD = limitMicroUSD
        self.spentMicroUSD = spentMicroUSD
        self.reservedMicroUSD = reservedMicroUSD
        self.period = period
        self.resetsAt = resetsAt
    }
}

/// A route target's live state.
public struct TargetHealth: Sendable, Equatable {
    public var route: String
    public var target: String
    public var coolingDown: Bool
    /// Failed attempts that moved on (retry or next target) since the gateway started.
    public var fallbacks: Int
    public init(route: String, target: String, coolingDown: Bool, fallbacks: Int) {
        self.route = route
        self.target = target
        self.coolingDown = coolingDown
        self.fallbacks = fallbacks
    }
}
