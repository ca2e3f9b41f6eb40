import SwitchyardCore
import Testing

@Suite struct BudgetBookTests {
    // Sat 2026-11-28 23:59:00 UTC: a week and a month are about to end.
    let lateNovember: Int64 = 1_795_910_340
    func scope(_ usd: Int64, _ period: Budget.Period) -> BudgetBook.Scope {
        .init(key: "user:alice", label: "user alice", budget: Budget(limitMicroUSD: usd, period: period))
    }

    @Test func periodsAreUTCCalendarPeriods() {
        #expect(Timestamps.rfc3339(BudgetPeriods.start(.day, now: lateNovember)) == "2026-11-28T00:00:00Z")
        #expect(Timestamps.rfc3339(BudgetPeriods.start(.week, now: lateNovember)) == "2026-11-23T00:00:00Z")  // Monday
        #expect(Timestamps.rfc3339(BudgetPeriods.start(.month, now: lateNovember)) == "2026-11-01T00:00:00Z")
        #expect(BudgetPeriods.reset(.month, now: lateNovember).map(Timestamps.rfc3339) == "2026-12-01T00:00:00Z")
        #expect(BudgetPeriods.reset(.month, now: 1_796_083_200 + 10).map(Timestamps.rfc3339) == "2027-01-01T00:00:00Z")  // December
        #expect(BudgetPeriods.reset(.total, now: lateNovember) == nil)
    }

    @Test func reservationsHoldUnderConcurrencyAndSettleToTheRealCost() async throws {
        let book = BudgetBook()
        let s = scope(10_000, .month)  // $0.01
        // 40 concurrent admissions of a $0.001 worst case: exactly 10 fit.
        let admitted = await withTaskGroup(of: BudgetBook.Ticket?.self) { group in
            for _ in 0..<40 { group.addTask { try? book.admit([s], reserve: 1_000, now: self.lateNovember) } }
            var tickets: [BudgetBook.Ticket] = []
            for await t in group { if let t { tickets.append(t) } }
            return tickets
        }
        #expect(admitted.count == 10)
        // Each really cost $0.0004: settling frees room for more.
        for t in admitted { book.settle(t, actual: 400, budgets: [s.key: s.budget]) }
        #expect(book.use(s, now: lateNovember).spentMicroUSD == 4_000)
        #expect(book.use(s, now: lateNovember).reservedMicroUSD == 0)
        _ = try book.admit([s], reserve: 6_000, now: lateNovember)
        #expect(throws: BudgetBook.Refusal.self) { try book.admit([s], reserve: 1, now: lateNovember) }
    }

    @Test func aNewPeriodStartsFromZeroAndALateSettleDoesNotLeakIntoIt() throws {
        let book = BudgetBook()
        let s = scope(1_000, .month)
        let ticket = try book.admit([s], reserve: 900, now: lateNovember)
        let stillNovember = lateNovember + 120
        #expect(throws: BudgetBook.Refusal.self) { try book.admit([s], reserve: 200, now: stillNovember) }
        let nextMonth = BudgetPeriods.reset(.month, now: lateNovember)! + 5
        let fresh = try book.admit([s], reserve: 1_000, now: nextMonth)  // the whole budget again
        book.settle(ticket, actual: 900, budgets: [s.key: s.budget])  // November's request ends in December
        #expect(book.use(s, now: nextMonth).spentMicroUSD == 0)
        book.settle(fresh, actual: 10, budgets: [s.key: s.budget])
        #expect(book.use(s, now: nextMonth).spentMicroUSD == 10)
    }

    @Test func spendReadBackAtStartCountsAndAZeroBudgetRefusesEverything() throws {
        let book = BudgetBook()
        let s = scope(50_000_000, .month)
        book.load(s.key, periodStart: BudgetPeriods.start(.month, now: lateNovember), spent: 50_000_000)
        do {
            _ = try book.admit([s], reserve: 0, now: lateNovember)
            Issue.record("admitted past a spent budget")
        } catch {
            #expect(error.message.contains("budget reached for user alice: $50.00 of $50.00 this month; resets 2026-12-01T00:00:00Z"))
        }
        let zero = BudgetBook.Scope(key: "route:r", label: "route r", budget: Budget(limitMicroUSD: 0, period: .day))
        #expect(throws: BudgetBook.Refusal.self) { try book.admit([zero], reserve: 0, now: lateNovember) }
    }

    @Test func everyBudgetMustPass() throws {
        let book = BudgetBook()
        let user = scope(1_000_000, .month)
        let route = BudgetBook.Scope(key: "route:opus", label: "route opus", budget: Budget(limitMicroUSD: 100, period: .day))
        #expect(throws: BudgetBook.Refusal.self) { try book.admit([user, route], reserve: 200, now: lateNovember) }
        #expect(book.use(user, now: lateNovember).reservedMicroUSD == 0)  // nothing held by the refused request
    }
}
