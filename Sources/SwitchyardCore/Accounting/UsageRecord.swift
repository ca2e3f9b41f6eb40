/// One ledger row: a request that passed authentication (accounting.md "What is recorded").
public struct UsageRecord: Sendable, Equatable, Codable {
    /// Unix time in milliseconds (UTC).
    public var timeMs: Int64
    public var requestID: String
    public var instance: String
    public var user: String?
    public var route: String?
    public var endpoint: String
    public var model: String?
    /// `provider:model` of the target that answered (or was tried last).
    public var target: String?
    public var attempts: [String]
    public var stream: Bool
    public var status: Int
    public var errorType: String?
    public var inputTokens: Int
    public var outputTokens: Int
    public var cacheReadTokens: Int
    public var cacheWriteTokens: Int
    /// The counts are the gateway's estimate (the upstream reported no usage).
    public var estimated: Bool
    /// Nil when the target is unpriced and the upstream reported no cost.
    public var costMicroUSD: Int64?
    /// `upstream` or `prices`; nil when no cost applies.
    public var costSource: String?
    public var latencyMs: Double
    public var ttfbMs: Double?

    public init(
        timeMs: Int64, requestID: String, instance: String, user: String?, route: String?, endpoint: String, model: String?,
        target: String?, attempts: [String], stream: Bool, status: Int, errorType: String?, inputTokens: Int, outputTokens: Int,
        cacheReadTokens: Int, cacheWriteTokens: Int, estimated: Bool, costMicroUSD: Int64?, costSource: String?,
        latencyMs: Double, ttfbMs: Double?
    ) {
        self.timeMs = timeMs
        self.requestID = requestID
        self.instance = instance
        self.user = user
        self.route = route
        self.endpoint = endpoint
        self.model = model
        self.target = target
        self.attempts = attempts
        self.stream = stream
        self.status = status
        self.errorType = errorType
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.cacheReadTokens = cacheReadTokens
        self.cacheWriteTokens = cacheWriteTokens
        self.estimated = estimated
        self.costMicroUSD = costMicroUSD
        self.costSource = costSource
        self.latencyMs = latencyMs
        self.ttfbMs = ttfbMs
    }
}

/// What to group usage by in reports.
public enum UsageGrouping: String, Sendable, CaseIterable {
    case user, route, target, model, day
}

/// A report query: a time range, an optional single user, groupings.
public struct UsageQuery: Sendable {
    public var sinceMs: Int64
    public var untilMs: Int64
    /// Only this user's rows (a non-admin caller); nil for everyone.
    public var user: String?
    public var groupBy: [UsageGrouping]

    public init(sinceMs: Int64, untilMs: Int64, user: String? = nil, groupBy: [UsageGrouping] = []) {
        self.sinceMs = sinceMs
        self.untilMs = untilMs
        self.user = user
        self.groupBy = groupBy
    }
}

/// One group of a report: the grouping values (in `groupBy` order) and the totals.
public struct UsageReportRow: Sendable, Equatable {
    public var keys: [String]
    public var totals: GroupUsage
}

/// Where usage records live. Implementations: SQLite (embedded, default), PostgreSQL.
public protocol UsageStore: Sendable {
    /// Creates or upgrades the schema (numbered migrations).
    func migrate() async throws
    /// Writes records; a record whose request_id is already stored is skipped.
    func insert(_ records: [UsageRecord]) async throws
    /// Spend (micro-dollars) of a user or a route since a time.
    func spend(user: String?, route: String?, sinceMs: Int64) async throws -> Int64
    /// Grouped totals.
    func report(_ query: UsageQuery) async throws -> [UsageReportRow]
    /// Rolls rows older than `olderThanMs` up into daily totals and deletes them.
    func prune(olderThanMs: Int64) async throws
    func close() async
}
