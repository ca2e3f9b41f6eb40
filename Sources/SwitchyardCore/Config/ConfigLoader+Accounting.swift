import Foundation
import SwitchyardWire
import Yams

/// The accounting keys (accounting.md): `state:`, `providers.*.cost` and `prices`, `budget:`.
extension ConfigLoader {
    func state(_ node: Node?, _ r: ConfigReader, baseDirectory: String) -> StateSettings {
        var settings = StateSettings.default
        let p = r.mapping(node, "state", allowed: ConfigKeys.state)
        if let uNode = r.value(p, "url") {
            if ConfigReader.nonTextKind(uNode) != nil, r.bool(uNode, "state.url") == false {
                settings.backend = .off
            } else if let url = r.string(uNode, "state.url") {
                if let backend = Self.stateBackend(url) {
                    settings.backend = backend
                } else {
                    r.problem("state.url", uNode, "expected sqlite:PATH, postgres://… or off, got \(quoted(url))")
                }
            }
        }
        if case .sqlite(let path) = settings.backend { settings.backend = .sqlite(path: resolveStatePath(path)) }
        if settings.backend != .off { settings.spoolPath = resolveStatePath("data/ledger-spool.jsonl") }
        if case .postgres(let url) = settings.backend, URLComponents(string: url)?.host?.isEmpty ?? true {
            r.problem("state.url", r.value(p, "url"), "expected postgres://user:password@host:port/database")
        }
        settings.retention = r.duration(r.value(p, "retention"), "state.retention", in: ConfigRanges.retention) ?? settings.retention
        settings.flushInterval = r.duration(r.value(p, "flush_interval"), "state.flush_interval", in: ConfigRanges.flushInterval) ?? settings.flushInterval
        settings.pool = r.int(r.value(p, "pool"), "state.pool", in: ConfigRanges.statePool) ?? settings.pool
        if let node = r.value(p, "unavailable"), let text = r.string(node, "state.unavailable") {
            if let mode = StateSettings.Unavailable(rawValue: text) {
                settings.unavailable = mode
            } else {
                r.problem("state.unavailable", node, "expected local or closed, got \(quoted(text))")
            }
        }
        return settings
    }

    static func stateBackend(_ url: String) -> StateSettings.Backend? {
        if url == "off" { return .off }
        if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") { return .postgres(url: url) }
        if url.hasPrefix("sqlite:") {
            let path = String(url.dropFirst("sqlite:".count)).replacingOccurrences(of: "//", with: "/")
            return path.isEmpty ? nil : .sqlite(path: path)
        }
        return nil
    }

    /// A relative SQLite path is relative to `$STATE_DIRECTORY` (systemd `StateDirectory=`),
    /// else to the working directory.
    func resolveStatePath(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        if let dir = environment["STATE_DIRECTORY"]?.split(separator: ":").first, !dir.isEmpty {
            // Under systemd the directory itself is the state home: drop a leading `data/`.
            let name = path.hasPrefix("data/") ? String(path.dropFirst(5)) : path
            return String(dir) + "/" + name
        }
        return FileManager.default.currentDirectoryPath + "/" + path
    }

    /// `cost:` and `prices:` of a provider.
    func pricing(_ p: [(key: String, node: Node)]?, path: String, _ r: ConfigReader) -> (CostSource, PriceTable) {
        var cost = CostSource.upstream
        if let n = r.value(p, "cost"), let c = r.string(n, "\(path).cost") {
            if let v = CostSource(rawValue: c) { cost = v } else { r.problem("\(path).cost", n, "expected upstream or prices, got \(quoted(c))") }
        }
        var table = PriceTable()
        for (glob, node) in r.mapping(r.value(p, "prices"), "\(path).prices", allowed: nil) ?? [] {
            let pricePath = "\(path).prices.\(glob)"
            let q = r.mapping(node, pricePath, allowed: ConfigKeys.price)
            func read(_ key: String) -> Int64? {
                guard let n = r.value(q, key), let text = r.text(n, "\(pricePath).\(key)") else { return nil }
                guard let v = Money.picoPerToken(usdPerMillion: text), v <= ConfigRanges.maxPicoPerToken else {
                    r.problem("\(pricePath).\(key)", n, "expected USD per million tokens between 0 and 1000 with at most 6 decimals, got \(quoted(text))")
                    return nil
                }
                return v
            }
            let input = read("input")
            let output = read("output")
            if r.value(q, "input") == nil || r.value(q, "output") == nil {
                r.problem(pricePath, node, "a price needs input and output (USD per million tokens)")
            }
            table.entries.append(
                (ModelGlob(glob), Price(input: input ?? 0, output: output ?? 0, cacheRead: read("cache_read"), cacheWrite: read("cache_write"))))
        }
        return (cost, table)
    }

    func budget(_ node: Node?, _ path: String, _ r: ConfigReader) -> Budget? {
        guard let node else { return nil }
        let p = r.mapping(node, path, allowed: ConfigKeys.budget)
        var limit: Int64? = nil
        if let n = r.value(p, "usd"), let text = r.text(n, "\(path).usd") {
            if text.hasPrefix("-") {
                r.problem("\(path).usd", n, "a budget cannot be negative (0 refuses everything; leave the budget out for none)")
            } else if let v = Money.microUSD(text), v <= ConfigRanges.maxBudgetMicroUSD {
                limit = v
            } else {
                r.problem("\(path).usd", n, "expected dollars between 0 and 1000000000 with at most 6 decimals, got \(quoted(text))")
            }
        } else if r.value(p, "usd") == nil {
            r.problem("\(path).usd", node, "field required")
        }
        var period = Budget.Period.month
        if let n = r.value(p, "period"), let text = r.string(n, "\(path).period") {
            if let v = Budget.Period(rawValue: text) {
                period = v
            } else {
                r.problem("\(path).period", n, "expected day, week, month or total, got \(quoted(text))")
            }
        }
        var warnAt: Double? = nil
        if let n = r.value(p, "warn_at"), let text = r.text(n, "\(path).warn_at") {
            if let v = ValueParsers.plainNumber(text), v > 0, v <= 1 {
                warnAt = v
            } else {
                r.problem("\(path).warn_at", n, "expected a fraction above 0 and at most 1, got \(quoted(text))")
            }
        }
        guard let limit else { return nil }
        return Budget(limitMicroUSD: limit, period: period, warnAt: warnAt)
    }
}
