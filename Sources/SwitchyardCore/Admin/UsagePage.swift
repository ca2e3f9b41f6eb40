/// Renders the usage page (`GET /ui` on the admin listener) from a `UsagePageData`: spend per day as
/// a server-drawn SVG chart, per-user usage with budget bars, per-target and per-route totals, the
/// routes' live health and the config generation. One self-contained HTML5 document: inline CSS, no
/// scripts, no fonts or images from anywhere, readable from 375 px wide up.
///
/// A pure function of its input, without Foundation. Every text that comes from the data (user,
/// route, target names, the instance, dates) is HTML-escaped; money stays in integer micro-dollars
/// until it is printed.
public enum UsagePage {
    public static func render(_ data: UsagePageData) -> String {
        var h = ""
        h.reserveCapacity(16_384 + 600 * (data.users.count + data.targets.count + data.routes.count + data.health.count))
        h += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
        h += "<meta charset=\"utf-8\">\n"
        h += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        h += "<meta name=\"color-scheme\" content=\"light\">\n"
        h += "<meta name=\"robots\" content=\"noindex\">\n"
        h += "<title>Usage · \(esc(data.instance)) · Switchyard</title>\n"
        h += "<style>\n\(stylesheet)</style>\n</head>\n<body>\n"
        header(data, into: &h)
        h += "<main>\n"
        overview(data, into: &h)
        usersSection(data.users, into: &h)
        groupSection(id: "targets", title: "Targets", keyHeader: "Target", noun: "targets", rows: data.targets, into: &h)
        groupSection(id: "routes", title: "Routes", keyHeader: "Route", noun: "routes", rows: data.routes, into: &h)
        healthSection(data.health, into: &h)
        h += "</main>\n"
        h += "<footer>Switchyard · \(esc(data.instance)) · config generation \(data.configGeneration) · generated \(esc(data.generatedAt))</footer>\n"
        h += "</body>\n</html>\n"
        return h
    }

    // MARK: Sections

    private static func header(_ d: UsagePageData, into h: inout String) {
        h += "<header class=\"page-head\">\n"
        h += "<div class=\"brand\"><h1>Usage</h1><p class=\"instance\">\(esc(d.instance))</p></div>\n"
        h += "<dl class=\"meta\">\n"
        h += "<div><dt>Period</dt><dd id=\"period\">\(esc(d.since)) – \(esc(d.until))</dd></div>\n"
        h += "<div><dt>Config</dt><dd id=\"config\">generation <strong>\(d.configGeneration)</strong>"
        h += " · <code title=\"config hash\">\(esc(d.configHash))</code></dd></div>\n"
        h += "<div><dt>Generated</dt><dd id=\"generated\">\(esc(d.generatedAt))</dd></div>\n"
        h += "</dl>\n</header>\n"
    }

    private static func overview(_ d: UsagePageData, into h: inout String) {
        var spend: Int64 = 0
        var requests = 0
        for day in d.days {
            spend = spend &+ day.costMicroUSD
            requests = requests &+ day.requests
        }
        var errors = 0
        var unpriced = 0
        for r in d.routes {
            errors = errors &+ r.errors
            unpriced = unpriced &+ r.unpriced
        }
        let cooling = d.health.filter(\.coolingDown).count
        let fallbacks = d.health.reduce(0) { $0 &+ $1.fallbacks }
        let peak = d.days.max { $0.costMicroUSD < $1.costMicroUSD }

        h += "<section class=\"overview\">\n"
        h += "<div class=\"card chart-card\">\n<div class=\"card-head\"><h2>Spend per day</h2>"
        h += "<span class=\"sub\">UTC days, \(d.days.count) shown</span></div>\n"
        spendChart(d.days, into: &h)
        h += "</div>\n"

        h += "<div class=\"card stats\">\n<dl>\n"
        stat("Spend", dollars(spend), note: d.days.isEmpty ? nil : count(d.days.count, "day"), into: &h)
        stat("Requests", grouped(Int64(requests)), note: d.days.isEmpty ? nil : "avg \(grouped(Int64(requests / d.days.count)))/day", into: &h)
        stat(
            "Errors", grouped(Int64(errors)), note: requests > 0 ? "\(percent(errors, of: requests)) of requests" : nil,
            cls: errors > 0 ? "warn" : nil, into: &h)
        if let peak, peak.costMicroUSD > 0 {
            stat("Busiest day", dollars(peak.costMicroUSD), note: esc(peak.day), into: &h)
        }
        if !d.health.isEmpty {
            stat(
                "Cooling down", "\(cooling) of \(d.health.count)", note: "route targets · \(count(fallbacks, "fallback"))",
                cls: cooling > 0 ? "bad" : nil, into: &h)
        }
        if unpriced > 0 {
            stat("Unpriced", grouped(Int64(unpriced)), note: "requests without a known cost", cls: "warn", into: &h)
        }
        h += "</dl>\n</div>\n</section>\n"
    }

    private static func stat(_ label: String, _ value: String, note: String?, cls: String? = nil, into h: inout String) {
        h += "<div class=\"stat\(cls.map { " " + $0 } ?? "")\"><dt>\(label)</dt><dd><span class=\"v\">\(value)</span>"
        if let note { h += "<span class=\"n\">\(note)</span>" }
        h += "</dd></div>\n"
    }

    private static func usersSection(_ users: [UserUsage], into h: inout String) {
        tableStart(
            title: "Users", sub: count(users.count, "user"), id: "users", into: &h,
            headers: "<th scope=\"col\">User</th><th scope=\"col\" class=\"num\">Cost</th><th scope=\"col\" class=\"budget-col\">Budget</th>"
                + countHeaders)
        if users.isEmpty {
            h += "<tr class=\"empty\"><td colspan=\"9\">No usage by any user in this period.</td></tr>\n"
        }
        for u in users {
            let g = u.usage
            h += "<tr data-user=\"\(esc(g.key))\"><th scope=\"row\" class=\"key\">\(esc(g.key))</th>"
            costCell(g, into: &h)
            h += "<td class=\"budget-col\">"
            if let b = u.budget { budgetCell(b, into: &h) } else { h += "<span class=\"muted\">no budget</span>" }
            h += "</td>"
            countCells(g, into: &h)
            h += "</tr>\n"
        }
        h += "</tbody>\n</table>\n</div>\n</section>\n"
    }

    private static func groupSection(id: String, title: String, keyHeader: String, noun: String, rows: [GroupUsage], into h: inout String) {
        tableStart(
            title: title, sub: count(rows.count, String(noun.dropLast())), id: id, into: &h,
            headers: "<th scope=\"col\">\(keyHeader)</th><th scope=\"col\" class=\"num\">Cost</th>" + countHeaders)
        if rows.isEmpty {
            h += "<tr class=\"empty\"><td colspan=\"8\">No \(noun) used in this period.</td></tr>\n"
        }
        for g in rows {
            h += "<tr data-key=\"\(esc(g.key))\"><th scope=\"row\" class=\"key\">\(esc(g.key))</th>"
            costCell(g, into: &h)
            countCells(g, into: &h)
            h += "</tr>\n"
        }
        if rows.count > 1 {
            let t = rows.reduce(GroupUsage(key: "Total")) { $0.adding($1) }
            h += "</tbody>\n<tfoot><tr><th scope=\"row\" class=\"key\">Total</th>"
            costCell(t, into: &h)
            countCells(t, into: &h)
            h += "</tr></tfoot>\n"
        } else {
            h += "</tbody>\n"
        }
        h += "</table>\n</div>\n</section>\n"
    }

    private static let countHeaders = ["Requests", "Errors", "Input", "Output", "Cache read", "Cache write"]
        .map { "<th scope=\"col\" class=\"num\">\($0)</th>" }.joined()

    /// A card with a title, a note on the right and the start of a table with these header cells.
    private static func tableStart(title: String, sub: String, id: String, into h: inout String, headers: String) {
        h += "<section class=\"card\">\n<div class=\"card-head\"><h2>\(title)</h2><span class=\"sub\">\(sub)</span></div>\n"
        h += "<div class=\"table-wrap\">\n<table id=\"\(id)\">\n<thead><tr>\(headers)</tr></thead>\n<tbody>\n"
    }

    private static func costCell(_ g: GroupUsage, into h: inout String) {
        h += "<td class=\"num cost\">\(dollars(g.costMicroUSD))"
        if g.unpriced > 0 {
            h += "<span class=\"badge warn\" title=\"requests whose cost is unknown (unpriced target)\">unpriced: \(g.unpriced)</span>"
        }
        h += "</td>"
    }

    private static func countCells(_ g: GroupUsage, into h: inout String) {
        h += "<td class=\"num\">\(grouped(Int64(g.requests)))</td>"
        h += "<td class=\"num\(g.errors > 0 ? " err" : "")\">\(grouped(Int64(g.errors)))</td>"
        h += "<td class=\"num\">\(grouped(g.inputTokens))</td>"
        h += "<td class=\"num\">\(grouped(g.outputTokens))</td>"
        h += "<td class=\"num\">\(grouped(g.cacheReadTokens))</td>"
        h += "<td class=\"num\">\(grouped(g.cacheWriteTokens))</td>"
    }

    private static func budgetCell(_ b: BudgetUse, into h: inout String) {
        let limit = b.limitMicroUSD
        let spent = max(0, b.spentMicroUSD)
        let reserved = max(0, b.reservedMicroUSD)
        let over = spent > limit
        // The spent fraction, unclamped, in hundredths; a zero limit counts as full.
        let hundredths: Int
        if limit > 0 {
            hundredths = Int(min(Double(spent) / Double(limit) * 100, 1_000_000).rounded())
        } else {
            hundredths = 100
        }
        // Widths in tenths of a percent, clamped so the two segments never pass 100 %.
        let spentTenths = limit > 0 ? min(1000, Int(min(Double(spent) / Double(limit) * 1000, 1000).rounded())) : 1000
        let reservedTenths =
            limit > 0
            ? min(1000 - spentTenths, Int(min(Double(reserved) / Double(limit) * 1000, 1000).rounded()))
            : 0
        let level = over ? "over" : (hundredths >= 80 ? "warn" : "ok")
        let ratio = fixed(hundredths, decimals: 2)

        var tip = "\(dollars(spent)) spent"
        if reserved > 0 { tip += " + \(dollars(reserved)) reserved" }
        tip += " of \(dollars(limit)) (\(hundredths)%)"

        h += "<div class=\"budget\">"
        h +=
            "<div class=\"budget-bar \(level)\" data-ratio=\"\(ratio)\" data-reserved=\"\(fixed(limit > 0 ? Int((Double(reserved) / Double(limit) * 100).rounded()) : 0, decimals: 2))\""
        h += " role=\"meter\" aria-valuemin=\"0\" aria-valuemax=\"100\" aria-valuenow=\"\(min(hundredths, 100))\""
        h += " aria-label=\"\(tip)\" title=\"\(tip)\">"
        h += "<span class=\"spent\" style=\"width:\(fixed(spentTenths, decimals: 1))%\"></span>"
        if reservedTenths > 0 {
            h += "<span class=\"reserved\" style=\"width:\(fixed(reservedTenths, decimals: 1))%\"></span>"
        }
        h += "</div>"

        let period = b.period.lowercased()
        var text = "\(dollars(spent)) of \(dollars(limit)) "
        switch period {
        case "total": text += "total"
        case "day": text += "today"
        default: text += "this \(esc(period))"
        }
        if period != "total", let resets = b.resetsAt {
            text += ", resets \(esc(dateOnly(resets)))"
        }
        h += "<div class=\"budget-text\"\(b.resetsAt.map { " title=\"resets \(esc($0))\"" } ?? "")>\(text)</div>"
        if over {
            h += "<div class=\"budget-flag over\">over by \(dollars(spent - limit))</div>"
        } else if reserved > 0 {
            h += "<div class=\"budget-flag\">\(dollars(reserved)) reserved in flight</div>"
        }
        h += "</div>"
    }

    private static func healthSection(_ health: [TargetHealth], into h: inout String) {
        let cooling = health.filter(\.coolingDown).count
        tableStart(
            title: "Route health",
            sub: health.isEmpty ? "no routes" : cooling == 0 ? "all targets ok" : "\(cooling) of \(count(health.count, "target")) cooling down",
            id: "health", into: &h,
            headers: "<th scope=\"col\">Route</th><th scope=\"col\">Target</th><th scope=\"col\">State</th><th scope=\"col\" class=\"num\">Fallbacks</th>")
        if health.isEmpty {
            h += "<tr class=\"empty\"><td colspan=\"4\">No routes configured.</td></tr>\n"
        }
        var previousRoute: String?
        for t in health {
            let first = t.route != previousRoute
            previousRoute = t.route
            h +=
                "<tr class=\"\(t.coolingDown ? "cooling" : "healthy")\(first ? " group-start" : "")\" data-route=\"\(esc(t.route))\" data-target=\"\(esc(t.target))\">"
            h += "<th scope=\"row\" class=\"key\">\(esc(t.route))</th><td class=\"target\">\(esc(t.target))</td>"
            h +=
                t.coolingDown
                ? "<td><span class=\"state bad\">cooling down</span></td>"
                : "<td><span class=\"state good\">ok</span></td>"
            h += "<td class=\"num\(t.fallbacks > 0 ? " err" : "")\">\(grouped(Int64(t.fallbacks)))</td></tr>\n"
        }
        h += "</tbody>\n</table>\n</div>\n"
        h += "<p class=\"foot-note\">Fallbacks count failed attempts that moved on (a retry or the next target) since the gateway started.</p>\n"
        h += "</section>\n"
    }

    // MARK: Formatting

    /// Money from micro-dollars: two decimals (rounded half up, thousands grouped) from $0.01 up,
    /// otherwise all six decimals (`$0.000150`); zero is `$0.00`. Integer arithmetic only.
    static func dollars(_ micro: Int64) -> String {
        let negative = micro < 0
        let m = micro.magnitude
        let body: String
        if m == 0 {
            body = "0.00"
        } else if m >= 10_000 {
            let cents = m / 10_000 + (m % 10_000 >= 5_000 ? 1 : 0)
            body = groupedDigits(cents / 100) + "." + pad(cents % 100, to: 2)
        } else {
            body = "0." + pad(m, to: 6)
        }
        return (negative ? "-$" : "$") + body
    }

    /// `1234567` → `1,234,567`.
    static func grouped(_ n: Int64) -> String {
        (n < 0 ? "-" : "") + groupedDigits(n.magnitude)
    }

    private static func groupedDigits(_ n: UInt64) -> String {
        let digits = Array(String(n))
        var out = ""
        out.reserveCapacity(digits.count + digits.count / 3)
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return out
    }

    private static func pad(_ n: UInt64, to width: Int) -> String {
        let s = String(n)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }

    /// An integer count of 10^-decimals units as a fixed-point decimal: `fixed(42, decimals: 2)` → `0.42`.
    static func fixed(_ units: Int, decimals: Int) -> String {
        var scale = 1
        for _ in 0..<decimals { scale *= 10 }
        let m = units.magnitude
        let whole = m / UInt(scale)
        let frac = m % UInt(scale)
        let sign = units < 0 ? "-" : ""
        return decimals == 0 ? sign + String(whole) : sign + String(whole) + "." + pad(UInt64(frac), to: decimals)
    }

    private static func percent(_ part: Int, of whole: Int) -> String {
        guard whole > 0 else { return "0%" }
        let tenths = Int((Double(part) / Double(whole) * 1000).rounded())
        return fixed(tenths, decimals: 1) + "%"
    }

    private static func count(_ n: Int, _ noun: String) -> String {
        "\(grouped(Int64(n))) \(noun)\(n == 1 ? "" : "s")"
    }

    /// `2026-12-01T00:00:00Z` → `2026-12-01`; anything else unchanged.
    private static func dateOnly(_ rfc3339: String) -> String {
        let s = Array(rfc3339.utf8)
        if s.count > 10, s[4] == UInt8(ascii: "-"), s[7] == UInt8(ascii: "-"), s[10] == UInt8(ascii: "T") || s[10] == UInt8(ascii: " ") {
            return String(rfc3339.prefix(10))
        }
        return rfc3339
    }

    /// HTML-escapes text for element content and double- or single-quoted attributes. Works on
    /// Unicode scalars, not Characters: `<` followed by a combining mark is one Character that is
    /// not equal to `<`, and must still be escaped. NUL becomes U+FFFD.
    static func esc(_ s: String) -> String {
        var needs = false
        for u in s.utf8 where u == 0x26 || u == 0x3C || u == 0x3E || u == 0x22 || u == 0x27 || u == 0 {
            needs = true
            break
        }
        if !needs { return s }
        var out = String.UnicodeScalarView()
        for scalar in s.unicodeScalars {
            switch scalar {
            case "&": out.append(contentsOf: "&amp;".unicodeScalars)
            case "<": out.append(contentsOf: "&lt;".unicodeScalars)
            case ">": out.append(contentsOf: "&gt;".unicodeScalars)
            case "\"": out.append(contentsOf: "&quot;".unicodeScalars)
            case "'": out.append(contentsOf: "&#39;".unicodeScalars)
            case "\u{0}": out.append("\u{FFFD}")
            default: out.append(scalar)
            }
        }
        return String(out)
    }

    // MARK: Style

    private static let stylesheet = """
        :root{--fg:#1b2230;--muted:#667085;--line:#e4e7ec;--bg:#f5f6f8;--card:#fff;--accent:#3563e9;--accent-soft:#b9c9f7;
        --ok:#13795b;--ok-bg:#e3f4ec;--warn:#b54708;--warn-bg:#fef0c7;--bad:#c01c28;--bad-bg:#fde4e4;--bar-track:#eef0f4}
        *{box-sizing:border-box}
        html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
        body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.45 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans","Liberation Sans",sans-serif}
        code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;font-size:.92em;background:#eef0f4;border-radius:4px;padding:1px 5px}
        .page-head,main,footer{max-width:1180px;margin:0 auto;padding-left:24px;padding-right:24px}
        .page-head{display:flex;flex-wrap:wrap;align-items:flex-end;justify-content:space-between;gap:12px 32px;padding-top:24px;padding-bottom:16px}
        .brand h1{margin:0;font-size:24px;line-height:1.2;letter-spacing:-.01em}
        .instance{margin:2px 0 0;color:var(--muted);overflow-wrap:anywhere}
        .meta{display:flex;flex-wrap:wrap;gap:8px 28px;margin:0}
        .meta div{min-width:0}
        .meta dt{font-size:11px;text-transform:uppercase;letter-spacing:.06em;color:var(--muted)}
        .meta dd{margin:0;font-variant-numeric:tabular-nums;overflow-wrap:anywhere}
        main{display:grid;gap:16px;padding-bottom:16px}
        .card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:16px 18px;min-width:0}
        .card-head{display:flex;align-items:baseline;justify-content:space-between;gap:12px;margin-bottom:10px}
        h2{margin:0;font-size:16px;line-height:1.3}
        .sub{color:var(--muted);font-size:12px;white-space:nowrap}
        .overview{display:grid;grid-template-columns:minmax(0,2.3fr) minmax(0,1fr);gap:16px}
        .chart{display:block;width:100%;height:auto}
        .chart .grid{stroke:#e4e7ec;stroke-width:1}
        .chart .axis{stroke:#98a2b3;stroke-width:1}
        .chart .bar{fill:var(--accent)}
        .chart .bar.zero{fill:#d0d5dd}
        .chart .day:hover .bar{fill:#1d44b8}
        .chart .day:hover .hit{fill:#3563e914}
        .chart .hit{fill:transparent}
        .chart text{fill:var(--muted);font-size:13px;font-variant-numeric:tabular-nums}
        .chart .empty-text{fill:#667085;font-size:16px}
        .stats dl{margin:0;display:grid;grid-template-columns:1fr;gap:0}
        .stat{padding:9px 0;border-top:1px solid var(--line)}
        .stat:first-child{border-top:0;padding-top:0}
        .stat dt{font-size:12px;color:var(--muted)}
        .stat dd{margin:0;display:flex;flex-wrap:wrap;align-items:baseline;gap:2px 8px}
        .stat .v{font-size:20px;font-weight:600;font-variant-numeric:tabular-nums;letter-spacing:-.01em}
        .stat .n{font-size:12px;color:var(--muted)}
        .stat.warn .v{color:var(--warn)}
        .stat.bad .v{color:var(--bad)}
        .table-wrap{overflow-x:auto;-webkit-overflow-scrolling:touch;margin:0 -18px;padding:0 18px;
        background:linear-gradient(to right,#fff 40%,#fff0) left/28px 100% no-repeat local,linear-gradient(to left,#fff 40%,#fff0) right/28px 100% no-repeat local,
        radial-gradient(farthest-side at 0 50%,#1018281f,#10182800) left/10px 100% no-repeat scroll,radial-gradient(farthest-side at 100% 50%,#1018281f,#10182800) right/10px 100% no-repeat scroll}
        table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
        th,td{padding:8px 10px;text-align:left;border-bottom:1px solid var(--line);vertical-align:top;white-space:nowrap}
        thead th{font-size:11px;text-transform:uppercase;letter-spacing:.05em;color:var(--muted);font-weight:600;border-bottom:1px solid #d0d5dd;vertical-align:bottom}
        tbody tr:hover>*{background:#f9fafb}
        tfoot th,tfoot td{font-weight:600;border-bottom:0;border-top:1px solid #d0d5dd}
        th.key{font-weight:600;white-space:normal;overflow-wrap:break-word;min-width:6em;max-width:24em}
        td.target{white-space:normal;overflow-wrap:break-word;min-width:8em}
        .num{text-align:right}
        td.err{color:var(--bad)}
        td.cost{font-weight:600}
        tr.empty td{color:var(--muted);text-align:left;padding:18px 10px;white-space:normal}
        .muted{color:var(--muted)}
        .badge{display:block;margin-top:2px;font-size:11px;font-weight:600;border-radius:4px;padding:0 5px;width:max-content;margin-left:auto}
        .badge.warn{color:var(--warn);background:var(--warn-bg)}
        .budget-col{min-width:220px}
        .budget{white-space:normal}
        .budget-bar{display:flex;height:8px;border-radius:4px;background:var(--bar-track);overflow:hidden;margin-top:5px}
        .budget-bar .spent{background:var(--ok)}
        .budget-bar .reserved{background:#9fd8bf}
        .budget-bar.warn .spent{background:#dc6803}
        .budget-bar.warn .reserved{background:#fbc98e}
        .budget-bar.over{background:var(--bad-bg);box-shadow:inset 0 0 0 1px var(--bad)}
        .budget-bar.over .spent{background:repeating-linear-gradient(135deg,#c01c28 0 6px,#e0474f 6px 10px)}
        .budget-text{margin-top:4px;font-size:12px;color:var(--muted)}
        .budget-flag{font-size:12px;color:var(--muted)}
        .budget-flag.over{color:var(--bad);font-weight:600}
        .state{display:inline-block;font-size:12px;font-weight:600;border-radius:999px;padding:1px 9px}
        .state.good{color:var(--ok);background:var(--ok-bg)}
        .state.bad{color:var(--bad);background:var(--bad-bg)}
        tr.cooling>*{background:#fff7f7}
        #health tbody tr.group-start>*{border-top:1px solid #d0d5dd}
        .foot-note{margin:10px 0 0;font-size:12px;color:var(--muted)}
        footer{padding-top:4px;padding-bottom:28px;font-size:12px;color:var(--muted);overflow-wrap:anywhere}
        @media (max-width:860px){.overview{grid-template-columns:minmax(0,1fr)}
        .stats dl{grid-template-columns:repeat(auto-fit,minmax(140px,1fr));gap:0 16px}
        .stat,.stat:first-child{border-top:0;padding:6px 0}}
        @media (max-width:560px){.page-head,main,footer{padding-left:12px;padding-right:12px}
        .page-head{padding-top:16px}
        main{gap:12px}
        .card{padding:14px 12px;border-radius:8px}
        .table-wrap{margin:0 -12px;padding:0 12px}
        th,td{padding:7px 8px}
        th.key{min-width:5em;max-width:12em}
        .meta{display:grid;gap:2px;width:100%}
        .meta div{display:flex;align-items:baseline;gap:10px}
        .meta dt{flex:0 0 5.5em}
        .brand h1{font-size:22px}
        .chart text{font-size:26px}
        .chart .empty-text{font-size:30px}
        .stat .v{font-size:18px}
        .budget-col{min-width:160px}}

        """
}
