import SwitchyardWire

/// `GET /v1/models` and `GET /v1/models/{id}`: the credential check, the caller's route
/// allow-list, the shape (Anthropic's paged list, or OpenAI's) and paging — in Core, so the
/// server only reads the request and writes the answer.
public enum ModelsEndpoint {
    /// Which list shape the caller speaks.
    public enum Shape: Sendable { case anthropic, openAI }

    /// The list, or the error to answer with.
    public static func list(
        _ snapshot: GatewaySnapshot, credential: Secret?, shape: Shape,
        limit: String?, afterID: String?, beforeID: String?
    ) -> Result<[UInt8], GatewayError> {
        let allowed: Set<String>?
        switch caller(snapshot, credential) {
        case .failure(let error): return .failure(error)
        case .success(let routes): allowed = routes
        }
        let catalog = snapshot.models
        if allowed == nil && afterID == nil && beforeID == nil && (limit == nil || limit == "20") {
            return .success(shape == .anthropic ? catalog.anthropicBody : catalog.openAIBody)
        }
        let entries = catalog.visible(to: allowed)
        guard shape == .anthropic else { return .success(ModelsCatalog.openAIList(entries)) }
        let pageSize = limit.flatMap { Int($0) }.map { min(max($0, 1), 1000) } ?? 20
        return .success(ModelsCatalog.anthropicPage(entries, limit: pageSize, afterID: afterID, beforeID: beforeID))
    }

    /// One model, or 404 when the caller may not see it.
    public static func model(_ snapshot: GatewaySnapshot, credential: Secret?, id: String) -> Result<[UInt8], GatewayError> {
        switch caller(snapshot, credential) {
        case .failure(let error): return .failure(error)
        case .success(let allowed):
            guard let entry = snapshot.models.visible(to: allowed).first(where: { $0.id == id }) else {
                return .failure(.notFound("model: \(quoted(id)) is not one this gateway lists"))
            }
            return .success(JSONWriter.encode(ModelsCatalog.anthropicModel(entry)))
        }
    }

    /// The caller's allow-list (nil: every route), or 401.
    static func caller(_ snapshot: GatewaySnapshot, _ credential: Secret?) -> Result<Set<String>?, GatewayError> {
        switch snapshot.authenticator.authenticate(credential) {
        case .open: return .success(nil)
        case .user(let user): return .success(user.routes)
        case .rejected(let message): return .failure(.unauthenticated(message))
        }
    }
}
