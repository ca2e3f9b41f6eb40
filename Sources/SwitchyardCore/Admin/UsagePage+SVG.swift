/// The spend-per-day bar chart of the usage page: an inline SVG drawn on the server, no script.
///
/// The drawing is 720 × 300 user units in a `viewBox` and the element is `width: 100%`, so it scales
/// to its container; the label font size is set in the page's CSS (bigger in user units on narrow
/// screens, where the drawing is scaled down). Every day of the range gets exactly one `<rect>` with
/// a `<title>` (day, amount, requests) as its tooltip; a day without spend is a short grey stub.
extension UsagePage {
    private static let chartWidth = 720.0
    private static let chartHeight = 300.0
    /// Room above the top grid line for the y-axis label, and below the base line for the day labels;
    /// both fit the large phone font (26 units).
    private static let chartTop = 38.0
    private static let chartBottom = 40.0

    static func spendChart(_ days: [DaySpend], into h: inout String) {
        let w = chartWidth
        let ht = chartHeight
        let plotTop = chartTop
        let plotBottom = ht - chartBottom
        let plotHeight = plotBottom - plotTop
        let maxCost = days.reduce(Int64(0)) { max($0, $1.costMicroUSD) }
        let total = days.reduce(Int64(0)) { $0 &+ max(0, $1.costMicroUSD) }
        let empty = maxCost <= 0
        let scaleMax = empty ? 0 : niceCeiling(maxCost)

        var label = "Spend per day"
        if let first = days.first, let last = days.last {
            label += " from \(first.day) to \(last.day)"
        }
        if empty {
            label += ": no spend"
        } else if let peak = days.max(by: { $0.costMicroUSD < $1.costMicroUSD }) {
            label += ": total \(dollars(total)), highest \(dollars(peak.costMicroUSD)) on \(peak.day)"
        }

        h += "<svg id=\"spend-chart\" class=\"chart\" role=\"img\" aria-label=\"\(esc(label))\" viewBox=\"0 0 \(n(w)) \(n(ht))\""
        h += " width=\"100%\" preserveAspectRatio=\"xMidYMid meet\">\n"

        // Grid: the top line carries the scale maximum, a middle line half of it, then the base line.
        h += "<line class=\"grid\" x1=\"0\" y1=\"\(n(plotTop))\" x2=\"\(n(w))\" y2=\"\(n(plotTop))\"/>\n"
        let midY = plotTop + plotHeight / 2
        if !empty {
            h += "<line class=\"grid\" x1=\"0\" y1=\"\(n(midY))\" x2=\"\(n(w))\" y2=\"\(n(midY))\"/>\n"
            h += "<text class=\"y-max\" x=\"0\" y=\"\(n(plotTop - 8))\">\(dollars(scaleMax))</text>\n"
            if scaleMax % 2 == 0 {
                h +=
                    "<text class=\"y-mid\" x=\"0\" y=\"\(n(midY - 6))\" paint-order=\"stroke\" stroke=\"#fff\" stroke-width=\"5\" stroke-linejoin=\"round\">\(dollars(scaleMax / 2))</text>\n"
            }
        }

        if !days.isEmpty {
            let slot = w / Double(days.count)
            let barWidth = slot >= 6 ? slot * 0.72 : max(slot * 0.9, 0.5)
            for (i, d) in days.enumerated() {
                let cx = slot * (Double(i) + 0.5)
                let cost = max(0, d.costMicroUSD)
                var barHeight = 2.0
                if cost > 0 && scaleMax > 0 {
                    barHeight = max(2.0, Double(cost) / Double(scaleMax) * plotHeight)
                }
                let title = "\(d.day): \(dollars(d.costMicroUSD)), \(grouped(Int64(d.requests))) request\(d.requests == 1 ? "" : "s")"
                h += "<g class=\"day\" data-day=\"\(esc(d.day))\" data-cost=\"\(d.costMicroUSD)\"><title>\(esc(title))</title>"
                // An invisible full-height column, so the tooltip shows anywhere above the day.
                h +=
                    "<line class=\"hit\" x1=\"\(n(cx))\" y1=\"\(n(plotTop))\" x2=\"\(n(cx))\" y2=\"\(n(plotBottom))\" stroke=\"transparent\" stroke-width=\"\(n(slot))\"/>"
                h += "<rect class=\"bar\(cost > 0 ? "" : " zero")\" x=\"\(n(cx - barWidth / 2))\" y=\"\(n(plotBottom - barHeight))\""
                h += " width=\"\(n(barWidth))\" height=\"\(n(barHeight))\" rx=\"\(n(min(2, barWidth / 4)))\"/></g>\n"
            }
        }
        h += "<line class=\"axis\" x1=\"0\" y1=\"\(n(plotBottom))\" x2=\"\(n(w))\" y2=\"\(n(plotBottom))\"/>\n"

        if let first = days.first {
            h += "<text class=\"x-first\" x=\"0\" y=\"\(n(ht - 8))\">\(esc(first.day))</text>\n"
        }
        if days.count > 1, let last = days.last {
            h += "<text class=\"x-last\" x=\"\(n(w))\" y=\"\(n(ht - 8))\" text-anchor=\"end\">\(esc(last.day))</text>\n"
        }
        if empty {
            h += "<text class=\"empty-text\" x=\"\(n(w / 2))\" y=\"\(n(midY + 8))\" text-anchor=\"middle\">No spend in this period</text>\n"
        }
        h += "</svg>\n"
    }

    /// The smallest of 1, 2, 2.5, 5 × 10^k micro-dollars (k ≥ 1) that is at least `value`.
    static func niceCeiling(_ value: Int64) -> Int64 {
        var p: Int64 = 10
        while true {
            for c in [p, 2 * p, 5 * p / 2, 5 * p] where c >= value { return c }
            if p > Int64.max / 100 { return value }
            p *= 10
        }
    }

    /// A coordinate with at most one decimal, never in exponent notation.
    private static func n(_ x: Double) -> String {
        let tenths = Int((x * 10).rounded())
        return tenths % 10 == 0 ? String(tenths / 10) : fixed(tenths, decimals: 1)
    }
}
