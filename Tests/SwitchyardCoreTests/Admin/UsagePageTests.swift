import SwitchyardCore
import Testing

/// The usage page (`GET /ui`) as HTML text: escaping, money formatting, the chart, the budget bars
/// and the stable hooks the browser tests use. Only `UsagePage.render` is public, so everything is
/// checked through the rendered document.
@Suite struct UsagePageTests {
    static func days(_ costs: [Int64], month: String = "2026-11") -> [DaySpend] {
        costs.enumerated().map { i, c in
            DaySpend(day: "\(month)-\(i + 1 < 10 ? "0" : "")\(i + 1)", requests: c > 0 ? 3 : 0, costMicroUSD: c)
        }
    }

    static func data(
        days: [DaySpend] = days([1_000_000, 0, 2_500_000]),
        users: [UserUsage] = [],
        targets: [GroupUsage] = [],
        routes: [GroupUsage] = [],
        health: [TargetHealth] = []
    ) -> UsagePageData {
        UsagePageData(
            generatedAt: "2026-12-03T14:07:21Z", instance: "gw-test", configGeneration: 7, configHash: "3fa9c0d1e2b4",
            since: "2026-11-01", until: "2026-12-01", days: days, users: users, targets: targets, routes: routes, health: health)
    }

    static func user(_ name: String, cost: Int64 = 0, budget: BudgetUse? = nil) -> UserUsage {
        UserUsage(usage: GroupUsage(key: name, requests: 1, costMicroUSD: cost), budget: budget)
    }

    /// The text from the first occurrence of `start` to the next `end` after it (inclusive), or "".
    static func slice(_ html: String, from start: String, to end: String) -> String {
        guard let a = html.firstRange(of: start), let b = html[a.upperBound...].firstRange(of: end) else { return "" }
        return String(html[a.lowerBound..<b.upperBound])
    }

    /// A number in exponent notation (`1e-05`, `2.5e+06`).
    static var exponent: Regex<AnyRegexOutput> { try! Regex("[0-9]e[-+]?[0-9]") }

    static func occurrences(of needle: String, in text: String) -> Int {
        text.ranges(of: needle).count
    }

    /// The `<tr …>…</tr>` of one user.
    static func userRow(_ html: String, _ escapedName: String) -> String {
        slice(html, from: "<tr data-user=\"\(escapedName)\"", to: "</tr>")
    }

    @Test func isACompleteSelfContainedDocument() {
        let html = UsagePage.render(Self.data())
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.contains("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"))
        #expect(html.contains("<meta charset=\"utf-8\">"))
        #expect(html.contains("</html>"))
        // No external assets and no script: nothing to fetch, works without JavaScript.
        for banned in ["http://", "https://", "<script", "<link", "<img", "@import", "url(", "src="] {
            #expect(!html.contains(banned), "found \(banned)")
        }
    }

    @Test func stableHooksArePresent() {
        let html = UsagePage.render(
            Self.data(
                users: [Self.user("alice")], targets: [GroupUsage(key: "a:b")],
                routes: [GroupUsage(key: "default")],
                health: [TargetHealth(route: "default", target: "a:b", coolingDown: false, fallbacks: 0)]))
        for id in ["users", "targets", "routes", "health"] {
            #expect(html.contains("<table id=\"\(id)\""), "table \(id)")
        }
        let svg = Self.slice(html, from: "<svg", to: ">")
        #expect(svg.contains("id=\"spend-chart\""))
        #expect(svg.contains("role=\"img\""))
        #expect(svg.contains("aria-label=\""))
        #expect(svg.contains("viewBox=\"0 0 "))
        #expect(svg.contains("width=\"100%\""))
        #expect(html.contains("<tr data-user=\"alice\""))
    }

    @Test func headerShowsInstanceConfigAndPeriod() {
        let html = UsagePage.render(Self.data())
        #expect(html.contains("gw-test"))
        #expect(html.contains("generation <strong>7</strong>"))
        #expect(html.contains("3fa9c0d1e2b4"))
        #expect(html.contains("2026-12-03T14:07:21Z"))
        #expect(html.contains("2026-11-01 – 2026-12-01"))
    }

    @Test func everyTextFromTheDataIsEscaped() {
        let eve = "<eve&\"x\">"
        let target = "local:qwen/<b>bold</b>'"
        let html = UsagePage.render(
            Self.data(
                users: [
                    Self.user(
                        eve, cost: 10_000,
                        budget: BudgetUse(
                            limitMicroUSD: 1_000_000, spentMicroUSD: 10_000, reservedMicroUSD: 0,
                            period: "<p>", resetsAt: "<script>"))
                ],
                targets: [GroupUsage(key: target)],
                routes: [GroupUsage(key: "r&<d>")],
                health: [TargetHealth(route: "r&<d>", target: target, coolingDown: true, fallbacks: 2)]))
        #expect(!html.contains("<eve"))
        #expect(!html.contains("<b>"))
        #expect(!html.contains("<d>"))
        #expect(!html.contains("<script"))
        #expect(!html.contains("<p>"))
        #expect(html.contains("&lt;eve&amp;&quot;x&quot;&gt;"))
        #expect(html.contains("data-user=\"&lt;eve&amp;&quot;x&quot;&gt;\""))
        #expect(html.contains("local:qwen/&lt;b&gt;bold&lt;/b&gt;&#39;"))
        #expect(html.contains("r&amp;&lt;d&gt;"))
    }

    @Test func aLessThanSignWithACombiningMarkIsStillEscaped() {
        // "<" + U+0338 is one Character (canonically "≮") that is not equal to "<"; escaping must
        // work on scalars, or a raw "<" reaches the browser.
        let html = UsagePage.render(Self.data(users: [Self.user("<\u{338}img onerror=alert(1)>")]))
        let scalars = Array(html.unicodeScalars)
        var rawLessThanBeforeCombining = false
        for i in 0..<(scalars.count - 1) where scalars[i] == "<" && scalars[i + 1] == "\u{338}" {
            rawLessThanBeforeCombining = true
        }
        #expect(!rawLessThanBeforeCombining)
        #expect(html.contains("&lt;\u{338}img onerror=alert(1)&gt;"))
    }

    @Test func dollarsUseTwoDecimalsFromACentAndSixBelow() {
        let cases: [(Int64, String)] = [
            (0, "$0.00"),
            (1, "$0.000001"),
            (150, "$0.000150"),
            (9_999, "$0.009999"),
            (10_000, "$0.01"),
            (12_345_678, "$12.35"),
            (12_344_999, "$12.34"),
            (1_234_567_890, "$1,234.57"),
            (100_000_000_000, "$100,000.00"),
        ]
        let targets = cases.enumerated().map { i, c in GroupUsage(key: "t\(i)", costMicroUSD: c.0) }
        let html = UsagePage.render(Self.data(targets: targets))
        for (i, c) in cases.enumerated() {
            let row = Self.slice(html, from: "<tr data-key=\"t\(i)\"", to: "</tr>")
            #expect(row.contains(">\(c.1)</td>"), "\(c.0) µ$ should print as \(c.1): \(row)")
            #expect(!row.contains(Self.exponent))
        }
    }

    @Test func theChartHasOneBarWithATitlePerDay() {
        let costs: [Int64] = (0..<30).map { $0 % 7 == 0 ? 0 : Int64($0) * 137_000 }
        let html = UsagePage.render(Self.data(days: Self.days(costs)))
        let svg = Self.slice(html, from: "<svg id=\"spend-chart\"", to: "</svg>")
        #expect(!svg.isEmpty)
        #expect(Self.occurrences(of: "<rect", in: svg) == 30)
        #expect(Self.occurrences(of: "<title>", in: svg) == 30)
        #expect(Self.occurrences(of: "data-day=\"", in: svg) == 30)
        // A bar's tooltip names the day and the amount.
        #expect(svg.contains("<title>2026-11-02: $0.14, 3 requests</title>"))
        #expect(svg.contains("<title>2026-11-01: $0.00, 0 requests</title>"))
        // The y-axis top is a round amount at or above the biggest day ($3.97 → $5.00), then the
        // first and last days under the axis.
        #expect(svg.contains(">$5.00</text>"))
        #expect(svg.contains(">2026-11-01</text>"))
        #expect(svg.contains(">2026-11-30</text>"))
        #expect(!svg.contains("No spend in this period"))
        // Coordinates are plain decimals.
        #expect(!svg.contains(Self.exponent))
        #expect(!svg.contains("nan"))
        #expect(!svg.contains("inf"))
    }

    @Test func allZeroDaysShowAnEmptyState() {
        let html = UsagePage.render(Self.data(days: Self.days([0, 0, 0, 0])))
        let svg = Self.slice(html, from: "<svg id=\"spend-chart\"", to: "</svg>")
        #expect(svg.contains("No spend in this period"))
        #expect(Self.occurrences(of: "<rect", in: svg) == 4)
        #expect(svg.contains("aria-label=\"Spend per day from 2026-11-01 to 2026-11-04: no spend\""))

        let none = UsagePage.render(Self.data(days: []))
        #expect(none.contains("No spend in this period"))
        #expect(none.contains("id=\"spend-chart\""))
    }

    @Test func budgetBarCarriesTheSpentRatioAndText() {
        let html = UsagePage.render(
            Self.data(users: [
                Self.user(
                    "bob", cost: 21_000_000,
                    budget: BudgetUse(
                        limitMicroUSD: 50_000_000, spentMicroUSD: 21_000_000, reservedMicroUSD: 5_000_000,
                        period: "month", resetsAt: "2026-12-01T00:00:00Z")),
                Self.user(
                    "alice", cost: 61_420_000,
                    budget: BudgetUse(
                        limitMicroUSD: 50_000_000, spentMicroUSD: 61_420_000, reservedMicroUSD: 0,
                        period: "week", resetsAt: "2026-12-07T00:00:00Z")),
                Self.user(
                    "frank", cost: 310_000,
                    budget: BudgetUse(
                        limitMicroUSD: 25_000_000, spentMicroUSD: 310_000, reservedMicroUSD: 0,
                        period: "total", resetsAt: nil)),
                Self.user("dave"),
            ]))
        let bob = Self.userRow(html, "bob")
        #expect(bob.contains("class=\"budget-bar ok\" data-ratio=\"0.42\""))
        #expect(bob.contains("$21.00 of $50.00 this month, resets 2026-12-01"))
        #expect(bob.contains("style=\"width:42.0%\""))
        #expect(bob.contains("class=\"reserved\" style=\"width:10.0%\""))

        // Over budget: the real ratio in the attribute, the bar clamped to 100 % and marked.
        let alice = Self.userRow(html, "alice")
        #expect(alice.contains("class=\"budget-bar over\" data-ratio=\"1.23\""))
        #expect(alice.contains("class=\"spent\" style=\"width:100.0%\""))
        #expect(alice.contains("$61.42 of $50.00 this week, resets 2026-12-07"))
        #expect(alice.contains("over by $11.42"))

        let frank = Self.userRow(html, "frank")
        #expect(frank.contains("data-ratio=\"0.01\""))
        #expect(frank.contains("$0.31 of $25.00 total"))
        #expect(!frank.contains("resets"))

        let dave = Self.userRow(html, "dave")
        #expect(!dave.contains("budget-bar"))
        #expect(dave.contains("no budget"))
    }

    @Test func usersTableShowsTokensAndCost() {
        let html = UsagePage.render(
            Self.data(users: [
                UserUsage(
                    usage: GroupUsage(
                        key: "carol", requests: 14_210, errors: 31, inputTokens: 48_200_000, outputTokens: 3_120_000,
                        cacheReadTokens: 21_400_000, cacheWriteTokens: 1_900_000, costMicroUSD: 61_420_000, unpriced: 3),
                    budget: nil)
            ]))
        let row = Self.userRow(html, "carol")
        for text in ["14,210", ">31<", "48,200,000", "3,120,000", "21,400,000", "1,900,000", "$61.42", "unpriced: 3"] {
            #expect(row.contains(text), "\(text)")
        }
    }

    @Test func targetsAndRoutesMarkUnpricedRows() {
        let html = UsagePage.render(
            Self.data(
                targets: [
                    GroupUsage(key: "openrouter:anthropic/claude-sonnet-4.5", requests: 5, costMicroUSD: 88_000_000),
                    GroupUsage(key: "local:qwen/qwen3-32b", requests: 14, unpriced: 14),
                ],
                routes: [GroupUsage(key: "cheap/*", requests: 14, unpriced: 14)]))
        let targets = Self.slice(html, from: "<table id=\"targets\"", to: "</table>")
        #expect(targets.contains("openrouter:anthropic/claude-sonnet-4.5"))
        #expect(Self.slice(targets, from: "<tr data-key=\"local:qwen/qwen3-32b\"", to: "</tr>").contains("unpriced: 14"))
        #expect(!Self.slice(targets, from: "<tr data-key=\"openrouter:", to: "</tr>").contains("unpriced"))
        let routes = Self.slice(html, from: "<table id=\"routes\"", to: "</table>")
        #expect(routes.contains("unpriced: 14"))
    }

    @Test func healthShowsCooldownAndFallbacks() {
        let html = UsagePage.render(
            Self.data(health: [
                TargetHealth(route: "default", target: "openai:gpt-4.1-mini", coolingDown: true, fallbacks: 57),
                TargetHealth(route: "default", target: "openrouter:anthropic/claude-sonnet-4.5", coolingDown: false, fallbacks: 0),
            ]))
        let table = Self.slice(html, from: "<table id=\"health\"", to: "</table>")
        let cooling = Self.slice(table, from: "data-target=\"openai:gpt-4.1-mini\"", to: "</tr>")
        #expect(cooling.contains("cooling down"))
        #expect(cooling.contains(">57</td>"))
        let ok = Self.slice(table, from: "data-target=\"openrouter:anthropic/claude-sonnet-4.5\"", to: "</tr>")
        #expect(ok.contains(">ok</span>"))
        #expect(!ok.contains("cooling down"))
    }

    @Test func emptyTablesSaySo() {
        let html = UsagePage.render(Self.data(days: []))
        #expect(html.contains("No usage by any user in this period."))
        #expect(html.contains("No targets used in this period."))
        #expect(html.contains("No routes used in this period."))
        #expect(html.contains("No routes configured."))
    }
}
