/// The `switchyard check` summary: routes, targets, users — never a secret.
public enum ConfigSummary {
    public static func render(_ config: GatewayConfig, path: String) -> String {
        var lines = ["\(path): OK (config hash \(config.contentHash.prefix(12)))"]
        lines.append(
            "listen: \(config.server.host):\(config.server.port)  auth: \(config.auth.rawValue)  pipeline: \(config.pipeline.map(\.rawValue).joined(separator: " → "))"
        )
        lines.append("providers (\(config.providers.count)):")
        for p in config.providers {
            let key = p.apiKey != nil ? "key set" : (p.missingKeyVariable.map { "key MISSING (\($0) not set)" } ?? "no key")
            lines.append("  \(p.name): \(p.kind.rawValue)/\(p.dialect.rawValue) \(p.baseURL) [\(key)]")
        }
        lines.append("routes (\(config.routes.count)):")
        for r in config.routes {
            let targets = r.targets.map { $0.label + ($0.apiKey != nil ? " (own key)" : "") }.joined(separator: " → ")
            lines.append("  \(r.name): \(r.models.map(\.pattern).joined(separator: ", ")) ⇒ \(targets)")
        }
        lines.append("users (\(config.users.count)): \(config.users.map(\.name).joined(separator: ", "))")
        return lines.joined(separator: "\n")
    }
}
