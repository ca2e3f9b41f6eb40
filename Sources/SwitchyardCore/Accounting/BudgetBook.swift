import NIOConcurrencyHelpers

/// Spend and reservations per budget scope (`user:NAME`, `route:NAME`), kept across reloads.
///
/// Admission reserves a request's worst-case cost in every scope that has a budget and refuses
/// when spent + reserved + this reservation would pass any of them; the reply's end settles the
/// reservation to the real cost. All checks of one request happen under one lock, so concurrent
/// requests can overshoot a budget by at most the settle difference, never by a whole request.
/// Spend is read back from the ledger the first time a scope is used after start, so a restart
/// does not reset it; a new period starts from zero.
public final class BudgetBook: Sendable {
    /// One budget that applies to a request.
    public struct Scope: Sendable {
        public var key: String
        /// `user "alice"`, `route "opus"` — for messages.
        public var label: String
        public var budget: Budget
        public init(key: String, label: String, budget: Budget) {
            self.key = key
            self.label = label
            self.budget = budget
        }
    }

    /// A refusal: the budget, what is spent and when it resets.
    public struct Refusal: Error, Sendable {
        public var message: String
    }

    /// An admitted request's reservations, settled once.
    public final class Ticket: Sendable {
        let reservations: [(key: String, periodStart: Int64, micro: Int64)]
        let settled = NIOLockedValueBox(false)
        init(reservations: [(key: String, periodStart: Int64, micro: Int64)]) { self.reservations = reservations }
    }

    struct Account {
        var periodStart: Int64
        var spent: Int64 = 0
        var reserved: Int64 = 0
        var warned = false
    }

    private let accounts = NIOLockedValueBox<[String: Account]>([:])
    /// Keys whose spend was read back from the store (or that start empty).
    private let loaded = NIOLockedValueBox<Set<String>>([])

    public init() {}

    /// Whether the scope's spend still has to be read from the store.
    public func needsLoading(_ key: String) -> Bool { !loaded.withLockedValue { $0.contains(key) } }

    /// Sets a scope's spend for the current period as read from the store (once per start).
    public func load(_ key: String, periodStart: Int64, spent: Int64) {
        let first = loaded.withLockedValue { $0.insert(key).inserted }
        guard first else { return }
        accounts.withLockedValue { table in
            var a = table[key] ?? Account(periodStart: periodStart)
            if a.periodStart != periodStart { a = Account(periodStart: periodStart) }
            a.spent = max(spent, 0).addingSaturated(a.spent)
            table[key] = a
        }
    }

    /// Reserves `reserve` micro-dollars in every scope, or refuses.
    public func admit(_ scopes: [Scope], reserve: Int64, now: Int64) throws(Refusal) -> Ticket {
        let reserve = max(reserve, 0)
        let result: Result<Ticket, Refusal> = accounts.withLockedValue { table in
            var starts: [Int64] = []
            for scope in scopes {
                let start = BudgetPeriods.start(scope.budget.period, now: now)
                starts.append(start)
                var a = table[scope.key] ?? Account(periodStart: start)
                if a.periodStart != start { a = Account(periodStart: start) }  // a new period: spend starts from zero
                table[scope.key] = a
                let limit = scope.budget.limitMicroUSD
                if limit == 0 || a.spent >= limit || a.spent.addingSaturated(a.reserved).addingSaturated(reserve) > limit {
                    return .failure(Refusal(message: Self.message(scope, spent: a.spent, reserve: reserve, now: now)))
                }
            }
            for scope in scopes { table[scope.key]!.reserved = table[scope.key]!.reserved.addingSaturated(reserve) }
            return .success(Ticket(reservations: zip(scopes, starts).map { ($0.key, $1, reserve) }))
        }
        return try result.get()
    }

    /// Settles a ticket with the real cost (once); returns the scopes whose `warn_at` was just
    /// crossed, for a log line, and each touched scope's used ratio.
    @discardableResult
    public func settle(_ ticket: Ticket, actual: Int64, budgets: [String: Budget]) -> [(key: String, ratio: Double, crossedWarning: Bool)] {
        let first = ticket.settled.withLockedValue { done -> Bool in
            defer { done = true }
            return !done
        }
        guard first else { return [] }
        let actual = max(actual, 0)
        return accounts.withLockedValue { table in
            var out: [(String, Double, Bool)] = []
            for r in ticket.reservations {
                guard var a = table[r.key] else { continue }
                if a.periodStart == r.periodStart {
                    a.reserved = max(a.reserved - r.micro, 0)
                    a.spent = a.spent.addingSaturated(actual)
                }
                var crossed = false
                var ratio = 0.0
                if let budget = budgets[r.key] {
                    ratio = budget.limitMicroUSD > 0 ? Double(a.spent) / Double(budget.limitMicroUSD) : 1
                    if let warnAt = budget.warnAt, ratio >= warnAt, !a.warned {
                        a.warned = true
                        crossed = true
                    }
                }
                table[r.key] = a
                out.append((r.key, ratio, crossed))
            }
            return out
        }
    }

    /// Spend of a scope that has no reservation to settle (a request refused before admission
    /// still costs nothing; this is for spend recorded elsewhere, e.g. another replica).
    public func use(_ scope: Scope, now: Int64) -> BudgetUse {
        let start = BudgetPeriods.start(scope.budget.period, now: now)
        let a = accounts.withLockedValue { table -> Account in
            guard let a = table[scope.key], a.periodStart == start else { return Account(periodStart: start) }
            return a
        }
        return BudgetUse(
            limitMicroUSD: scope.budget.limitMicroUSD, spentMicroUSD: a.spent, reservedMicroUSD: a.reserved,
            period: scope.budget.period.rawValue,
            resetsAt: BudgetPeriods.reset(scope.budget.period, now: now).map(Timestamps.rfc3339))
    }

    /// Names the budget, the spend and the reset; says so when it is this request's worst case,
    /// not the spend so far, that does not fit.
    static func message(_ scope: Scope, spent: Int64, reserve: Int64, now: Int64) -> String {
        let b = scope.budget
        let reset = BudgetPeriods.reset(b.period, now: now).map { "; resets \(Timestamps.rfc3339($0))" } ?? "; it does not reset"
        let used = "\(Money.format(spent)) of \(Money.format(b.limitMicroUSD)) \(BudgetPeriods.phrase(b.period))\(reset)"
        if b.limitMicroUSD > 0 && spent < b.limitMicroUSD {
            return "budget reached for \(scope.label): this request could cost up to \(Money.format(reserve)) (lower max_tokens to fit); \(used)"
        }
        return "budget reached for \(scope.label): \(used)"
    }
}
