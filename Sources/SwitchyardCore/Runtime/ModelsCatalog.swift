import SwitchyardWire

/// The `GET /v1/models` answer: every literal model name of the routes (`claude-*` first), with
/// the upstream it maps to in `display_name`. Computed once per snapshot.
struct ModelsCatalog {
    let router: RouteMatcher

    static let createdAt = "2025-01-01T00:00:00Z"

    func anthropicBody() -> [UInt8] {
        anthropicPage(limit: 20, afterID: nil, beforeID: nil)
    }

    /// One page of the Anthropic list (`limit` 1–1000, default 20; `after_id` / `before_id`).
    func anthropicPage(limit: Int, afterID: String?, beforeID: String?) -> [UInt8] {
        var models = router.advertisedModels
        if let afterID, let i = models.firstIndex(where: { $0.id == afterID }) { models = Array(models[(i + 1)...]) }
        if let beforeID, let i = models.firstIndex(where: { $0.id == beforeID }) { models = Array(models[..<i]) }
        let page = beforeID != nil && afterID == nil ? Array(models.suffix(limit)) : Array(models.prefix(limit))
        let data: [JSONValue] = page.map { entry in
            let target = entry.route.targets.first.map { "\($0.provider)/\($0.model)" } ?? "?"
            return .object([
                "type": .string("model"), "id": .string(entry.id),
                "display_name": .string("\(entry.id) → \(target)"), "created_at": .string(Self.createdAt),
            ])
        }
        return JSONWriter.encode(.object([
            "data": .array(data), "has_more": .bool(page.count < models.count),
            "first_id": page.first.map { .string($0.id) } ?? .null, "last_id": page.last.map { .string($0.id) } ?? .null,
        ]))
    }

    func openAIBody() -> [UInt8] {
        let data: [JSONValue] = router.advertisedModels.map { entry in
            .object(["id": .string(entry.id), "object": .string("model"), "created": .int(1_735_689_600), "owned_by": .string("switchyard")])
        }
        return JSONWriter.encode(.object(["object": .string("list"), "data": .array(data)]))
    }
}
