import SwitchyardWire

/// The `GET /v1/models` answer: every literal model name of the routes (`claude-*` first), with
/// the upstream it maps to in `display_name`. Computed once per snapshot.
struct ModelsCatalog {
    let router: RouteMatcher
    let providers: [Provider]

    static let createdAt = "2025-01-01T00:00:00Z"

    func anthropicBody() -> [UInt8] {
        let models = router.advertisedModels
        let data: [JSONValue] = models.map { entry in
            let target = entry.route.targets.first.map { "\($0.provider)/\($0.model)" } ?? "?"
            return .object([
                "type": .string("model"), "id": .string(entry.id),
                "display_name": .string("\(entry.id) → \(target)"), "created_at": .string(Self.createdAt),
            ])
        }
        return JSONWriter.encode(.object([
            "data": .array(data), "has_more": .bool(false),
            "first_id": models.first.map { .string($0.id) } ?? .null, "last_id": models.last.map { .string($0.id) } ?? .null,
        ]))
    }

    func openAIBody() -> [UInt8] {
        let data: [JSONValue] = router.advertisedModels.map { entry in
            .object(["id": .string(entry.id), "object": .string("model"), "created": .int(1_735_689_600), "owned_by": .string("switchyard")])
        }
        return JSONWriter.encode(.object(["object": .string("list"), "data": .array(data)]))
    }
}
