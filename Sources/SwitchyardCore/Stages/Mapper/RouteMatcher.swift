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
}
