import SwitchyardWire

/// Picks the first route, in file order, whose model globs and conditions match a request.
/// Compiled once per snapshot.
public struct RouteMatcher: Sendable {
    public let routes: [Route]

    public init(routes: [Route]) {
        self.routes = routes
    }

    public func route(model: String, thinking: Bool, estimatedInputTokens: Int) -> Route? {
        let name = Array(model.lowercased().utf8)
        for route in routes {
            guard route.models.contains(where: { $0.matches(lowercasedUTF8: name) }) else { continue }
            if let wanted = route.thinking, wanted != thinking { continue }
            if estimatedInputTokens < route.minInputTokens { continue }
            return route
        }
        return nil
    }

    /// Model names a client can ask for, for `GET /v1/models`: the literal (wildcard-free) globs,
    /// `claude-*` names first, in route order, without duplicates.
    public var advertisedModels: [(id: String, route: Route)] {
        var seen = Set<String>()
        var out: [(id: String, route: Route)] = []
        for route in routes {
            for glob in route.models where !glob.pattern.contains("*") && !glob.pattern.contains("?") {
                if seen.insert(glob.pattern).inserted { out.append((glob.pattern, route)) }
            }
        }
        let claude = out.filter { $0.id.hasPrefix("claude") || $0.id.hasPrefix("anthropic") }
        let rest = out.filter { !($0.id.hasPrefix("claude") || $0.id.hasPrefix("anthropic")) }
        return claude + rest
    }
}
