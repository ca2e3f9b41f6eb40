/// The Anthropic model ids a client may ask for today, newest first, with their display names:
/// what `GET /v1/models` lists for a route whose globs match them (Claude Code's model picker
/// shows these). Kept current with Claude Code's own list (checked against the CLI 2.1.332
/// bundle); a route's `advertise:` overrides it for exact control.
enum AnthropicModelCatalog {
    struct Model: Sendable {
        let id: String
        let displayName: String
        /// RFC 3339; the release date where the id carries one.
        let createdAt: String
    }

    static let undated = "2025-01-01T00:00:00Z"

    static let models: [Model] = [
        Model(id: "claude-opus-5-5", displayName: "Claude Opus 5.5", createdAt: undated),
        Model(id: "claude-sonnet-5-5", displayName: "Claude Sonnet 5.5", createdAt: undated),
        Model(id: "claude-haiku-5-5", displayName: "Claude Haiku 5.5", createdAt: undated),
        Model(id: "claude-opus-5", displayName: "Claude Opus 5", createdAt: undated),
        Model(id: "claude-sonnet-5", displayName: "Claude Sonnet 5", createdAt: undated),
        Model(id: "claude-opus-4-8", displayName: "Claude Opus 4.8", createdAt: undated),
        Model(id: "claude-opus-4-7", displayName: "Claude Opus 4.7", createdAt: undated),
        Model(id: "claude-opus-4-6", displayName: "Claude Opus 4.6", createdAt: undated),
        Model(id: "claude-sonnet-4-6", displayName: "Claude Sonnet 4.6", createdAt: undated),
        Model(id: "claude-opus-4-5-20251101", displayName: "Claude Opus 4.5", createdAt: "2025-11-01T00:00:00Z"),
        Model(id: "claude-haiku-4-5-20251001", displayName: "Claude Haiku 4.5", createdAt: "2025-10-01T00:00:00Z"),
        Model(id: "claude-sonnet-4-5-20250929", displayName: "Claude Sonnet 4.5", createdAt: "2025-09-29T00:00:00Z"),
        Model(id: "claude-opus-4-1-20250805", displayName: "Claude Opus 4.1", createdAt: "2025-08-05T00:00:00Z"),
        Model(id: "claude-opus-4-20250514", displayName: "Claude Opus 4", createdAt: "2025-05-14T00:00:00Z"),
        Model(id: "claude-sonnet-4-20250514", displayName: "Claude Sonnet 4", createdAt: "2025-05-14T00:00:00Z"),
        Model(id: "claude-3-7-sonnet-20250219", displayName: "Claude Sonnet 3.7", createdAt: "2025-02-19T00:00:00Z"),
        Model(id: "claude-3-5-haiku-20241022", displayName: "Claude Haiku 3.5", createdAt: "2024-10-22T00:00:00Z"),
    ]

    static func model(_ id: String) -> Model? { models.first { $0.id == id } }
}
