import SwitchyardWire

/// The `GET /v1/models` answer, computed once per snapshot. A route lists its `advertise:` ids
/// when it has them; otherwise its literal (wildcard-free) model names and every current
/// Anthropic model id (`AnthropicModelCatalog`) that requests would route to it (no earlier
/// route's globs match it).
/// `claude-*` ids come first. Each entry knows the routes that list it, so a user with a
/// `routes:` allow-list sees only what they may use. Display names never show the upstream
/// unless `server.models_show_targets` is on.
struct ModelsCatalog: Sendable {
    struct Entry: Sendable {
        let id: String
        let displayName: String
        let createdAt: String
        let routes: Set<String>
    }

    let entries: [Entry]
    /// The answers for a caller without an allow-list, rendered once.
    let anthropicBody: [UInt8]
    let openAIBody: [UInt8]

    init(routes: [Route], showTargets: Bool) {
        var order: [String] = []
        var routesByID: [String: [Route]] = [:]
        func add(_ id: String, _ route: Route) {
            if routesByID[id] == nil { order.append(id) }
            routesByID[id, default: []].append(route)
        }
        // An id belongs to the route a request for it would reach (the first whose globs match),
        // so a user is never shown an id that their allow-list then refuses; a route with
        // `advertise:` lists exactly those ids and lends its globs' ids to no one else.
        let owner = { (id: String) in routes.first { r in r.models.contains { $0.matches(id) } } }
        for route in routes {
            if let advertised = route.advertise {
                for id in advertised { add(id, route) }
                continue
            }
            let literals = route.models.map(\.pattern).filter { !$0.contains("*") && !$0.contains("?") }
            for id in literals + AnthropicModelCatalog.models.map(\.id) where owner(id)?.name == route.name && routesByID[id] == nil {
                add(id, route)
            }
        }
        let isClaude = { (id: String) in id.hasPrefix("claude") || id.hasPrefix("anthropic") }
        let sorted = order.filter(isClaude) + order.filter { !isClaude($0) }
        entries = sorted.map { id in
            let known = AnthropicModelCatalog.model(id)
            let owners = routesByID[id] ?? []
            var name = known?.displayName ?? id
            if showTargets, let target = owners.first?.targets.first { name += " → \(target.provider)/\(target.model)" }
            return Entry(
                id: id, displayName: name, createdAt: known?.createdAt ?? AnthropicModelCatalog.undated,
                routes: Set(owners.map(\.name)))
        }
        anthropicBody = Self.anthropicPage(entries, limit: 20, afterID: nil, beforeID: nil)
        openAIBody = Self.openAIList(entries)
    }

    /// The entries a caller may see: all, or those of a route in the allow-list.
    func visible(to allowed: Set<String>?) -> [Entry] {
        guard let allowed else { return entries }
        return entries.filter { !$0.routes.isDisjoint(with: allowed) }
    }

    /// One page of the Anthropic list (`limit` 1–1000, default 20; `after_id` / `before_id`).
    static func anthropicPage(_ all: [Entry], limit: Int, afterID: String?, beforeID: String?) -> [UInt8] {
        var models = all
        if let afterID, let i = models.firstIndex(where: { $0.id == afterID }) { models = Array(models[(i + 1)...]) }
        if let beforeID, let i = models.firstIndex(where: { $0.id == beforeID }) { models = Array(models[..<i]) }
        let page = beforeID != nil && afterID == nil ? Array(models.suffix(limit)) : Array(models.prefix(limit))
        return JSONWriter.encode(
            .object([
                "data": .array(page.map(anthropicModel)), "has_more": .bool(page.count < models.count),
                "first_id": page.first.map { .string($0.id) } ?? .null, "last_id": page.last.map { .string($0.id) } ?? .null,
            ]))
    }

    /// One model in the Anthropic shape (`GET /v1/models/{id}` answers with it alone).
    static func anthropicModel(_ entry: Entry) -> JSONValue {
        .object([
            "type": .string("model"), "id": .string(entry.id), "display_name": .string(entry.displayName),
            "created_at": .string(entry.createdAt),
        ])
    }

    static func openAIList(_ all: [Entry]) -> [UInt8] {
        let data: [JSONValue] = all.map { entry in
            .object(["id": .string(entry.id), "object": .string("model"), "created": .int(1_735_689_600), "owned_by": .string("switchyard")])
        }
        return JSONWriter.encode(.object(["object": .string("list"), "data": .array(data)]))
    }
}
