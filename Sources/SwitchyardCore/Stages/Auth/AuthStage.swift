import SwitchyardWire

/// Auth stage: 401 for a missing or unknown token (tokens mode), 403 for a model whose route is
/// outside the user's `routes` allow-list. Neither reaches the upstream.
public struct AuthStage: Stage {
    let authenticator: Authenticator

    public init(authenticator: Authenticator) {
        self.authenticator = authenticator
    }

    public func handle(_ call: Call, context: CallContext, next: Next) async throws -> Reply {
        var context = context
        switch call.authOutcome ?? authenticator.authenticate(call.credential) {
        case .open:
            break
        case .rejected(let message):
            throw GatewayError.unauthenticated(message)
        case .user(let user):
            context.user = user
            context.stats.user = user.name
            if let allowed = user.routes, let route = call.route, !allowed.contains(route.name) {
                throw GatewayError.forbidden("user \"\(user.name)\" may not use route \"\(route.name)\" (model \(quoted((try? call.parsed().model) ?? "")))")
            }
        }
        return try await next(call, context)
    }
}
