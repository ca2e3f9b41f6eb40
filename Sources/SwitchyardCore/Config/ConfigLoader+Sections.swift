import Foundation
import SwitchyardWire
import Yams

/// The providers, routes and users sections, with their cross-checks.
extension ConfigLoader {
    func providers(_ node: Node?, _ r: ConfigReader) -> [Provider] {
        var out: [Provider] = []
        for (name, pNode) in r.mapping(node, "providers", allowed: nil) ?? [] {
            let path = "providers.\(name)"
            let p = r.mapping(pNode, path, allowed: ConfigKeys.provider)
            var kind = Provider.Kind.openai
            if let n = r.value(p, "kind"), let k = r.string(n, "\(path).kind") {
                if let v = Provider.Kind(rawValue: k) { kind = v } else { r.problem("\(path).kind", n, "expected openai or anthropic, got \"\(k)\"") }
            }
            var baseURL = ""
            if let n = r.value(p, "base_url"), let u = r.string(n, "\(path).base_url") {
                if let url = URL(string: u), let scheme = url.scheme, ["http", "https"].contains(scheme.lowercased()), url.host != nil {
                    baseURL = u.hasSuffix("/") ? String(u.dropLast()) : u
                } else {
                    r.problem("\(path).base_url", n, "expected an http(s) URL, got \"\(u)\"")
                }
            } else if r.value(p, "base_url") == nil {
                r.problem("\(path).base_url", pNode, "field required")
            }
            let host = URL(string: baseURL)?.host?.lowercased() ?? ""
            var dialect: Dialect = host == "openrouter.ai" || host.hasSuffix(".openrouter.ai") ? .openrouter : .openai
            if let n = r.value(p, "dialect"), let d = r.string(n, "\(path).dialect") {
                if let v = Dialect(rawValue: d) { dialect = v } else { r.problem("\(path).dialect", n, "expected openrouter or openai, got \"\(d)\"") }
            }
            let key = r.secret(r.value(p, "api_key"), "\(path).api_key", allowMissing: true)
            var headers: [(String, String)] = []
            for (h, v) in r.mapping(r.value(p, "headers"), "\(path).headers", allowed: nil) ?? [] {
                if let value = r.text(v, "\(path).headers.\(h)") { headers.append((h, value)) }
            }
            let pricing = self.pricing(p, path: path, r)
            let t = r.mapping(r.value(p, "timeouts"), "\(path).timeouts", allowed: ConfigKeys.timeouts)
            let timeouts = Timeouts(
                connect: r.duration(r.value(t, "connect"), "\(path).timeouts.connect", in: ConfigRanges.connectTimeout) ?? .seconds(5),
                firstByte: r.duration(r.value(t, "first_byte"), "\(path).timeouts.first_byte", in: ConfigRanges.firstByteTimeout) ?? .seconds(120),
                idle: r.duration(r.value(t, "idle"), "\(path).timeouts.idle", in: ConfigRanges.idleTimeout) ?? .seconds(120))
            out.append(
                Provider(
                    name: name, kind: kind, dialect: dialect, baseURL: baseURL, apiKey: key.secret, missingKeyVariable: key.missingVariable,
                    headers: headers, timeouts: timeouts,
                    maxConnections: r.int(r.value(p, "max_connections"), "\(path).max_connections", in: ConfigRanges.providerConnections) ?? 256,
                    maxResponseBytes: r.size(r.value(p, "max_response_bytes"), "\(path).max_response_bytes", in: ConfigRanges.maxResponseBytes) ?? 64 << 20,
                    cost: pricing.0, prices: pricing.1))
        }
        if node != nil && out.isEmpty && r.problems.isEmpty { r.problem("providers", node, "at least one provider is required") }
        return out
    }

    func routes(_ node: Node?, _ r: ConfigReader, providers: Set<String>) -> [Route] {
        var out: [Route] = []
        for (i, rNode) in (r.sequence(node, "routes") ?? []).enumerated() {
            let path = "routes[\(i)]"
            let p = r.mapping(rNode, path, allowed: ConfigKeys.route)
            let name = r.string(r.value(p, "name"), "\(path).name") ?? ""
            if r.value(p, "name") == nil { r.problem("\(path).name", rNode, "field required") }
            if !name.isEmpty, out.contains(where: { $0.name == name }) { r.problem("\(path).name", r.value(p, "name"), "duplicate route name \"\(name)\"") }
            let m = r.mapping(r.value(p, "match"), "\(path).match", allowed: ConfigKeys.match)
            let models = r.strings(r.value(m, "models"), "\(path).match.models") ?? []
            if models.isEmpty { r.problem("\(path).match.models", r.value(p, "match") ?? rNode, "at least one model glob is required") }
            var thinking: Bool? = nil
            if let tNode = r.value(m, "thinking"), let t = r.text(tNode, "\(path).match.thinking") {
                switch t.lowercased() {
                case "any": thinking = nil
                case "true", "yes": thinking = true
                case "false", "no": thinking = false
                default: r.problem("\(path).match.thinking", tNode, "expected true, false or any")
                }
            }
            var targets: [Target] = []
            for (j, tNode) in (r.sequence(r.value(p, "targets"), "\(path).targets") ?? []).enumerated() {
                let tPath = "\(path).targets[\(j)]"
                let t = r.mapping(tNode, tPath, allowed: ConfigKeys.target)
                let provider = r.string(r.value(t, "provider"), "\(tPath).provider") ?? ""
                if r.value(t, "provider") == nil {
                    r.problem("\(tPath).provider", tNode, "field required")
                } else if !provider.isEmpty, !providers.contains(provider) {
                    r.problem("\(tPath).provider", r.value(t, "provider"), "unknown provider \"\(provider)\"")
                }
                let model = r.string(r.value(t, "model"), "\(tPath).model") ?? ""
                if r.value(t, "model") == nil { r.problem("\(tPath).model", tNode, "field required") }
                let key = r.secret(r.value(t, "api_key"), "\(tPath).api_key", allowMissing: true)
                targets.append(
                    Target(
                        provider: provider, model: model, apiKey: key.secret, missingKeyVariable: key.missingVariable,
                        maxTokens: r.int(r.value(t, "max_tokens"), "\(tPath).max_tokens", in: ConfigRanges.targetMaxTokens)))
            }
            if targets.isEmpty { r.problem("\(path).targets", r.value(p, "targets") ?? rNode, "at least one target is required") }
            out.append(
                Route(
                    name: name, models: models.map(ModelGlob.init), thinking: thinking,
                    minInputTokens: r.int(r.value(m, "min_input_tokens"), "\(path).match.min_input_tokens", in: ConfigRanges.minInputTokens) ?? 0,
                    targets: targets, limits: limits(r.value(p, "limits"), "\(path).limits", r),
                    advertise: r.strings(r.value(p, "advertise"), "\(path).advertise")))
        }
        return out
    }

    func users(_ node: Node?, _ r: ConfigReader, routes: Set<String>) -> [User] {
        var out: [User] = []
        for (i, uNode) in (r.sequence(node, "users") ?? []).enumerated() {
            let path = "users[\(i)]"
            let p = r.mapping(uNode, path, allowed: ConfigKeys.user)
            let name = r.string(r.value(p, "name"), "\(path).name") ?? ""
            if r.value(p, "name") == nil {
                r.problem("\(path).name", uNode, "field required")
            } else if !UserName.isValid(name) {
                r.problem("\(path).name", r.value(p, "name"), "invalid user name: use \(UserName.rule)")
            }
            if !name.isEmpty, out.contains(where: { $0.name == name }) { r.problem("\(path).name", r.value(p, "name"), "duplicate user name \"\(name)\"") }
            var hash: [UInt8] = []
            let hashNode = r.value(p, "token_sha256")
            let tokenNode = r.value(p, "token")
            switch (hashNode, tokenNode) {
            case (.some, .some): r.problem(path, uNode, "give either token_sha256 or token, not both")
            case (nil, nil): r.problem(path, uNode, "a user needs token_sha256 (or token from ${VAR} / {file:})")
            case (.some(let n), nil):
                if let hex = r.string(n, "\(path).token_sha256") {
                    if let bytes = Self.hexBytes(hex), bytes.count == 32 {
                        hash = bytes
                    } else {
                        r.problem("\(path).token_sha256", n, "expected 64 hexadecimal characters (the output of `switchyard token hash`)")
                    }
                }
            case (nil, .some(let n)):
                if case .scalar(let s) = n, !s.string.contains("${") {
                    r.problem(
                        "\(path).token", n, "a plain token must come from ${VAR} or {file: PATH}, never a literal in the file; use token_sha256 for a literal")
                } else if let secret = r.secret(n, "\(path).token", allowMissing: false).secret {
                    hash = Authenticator.digest(secret.exposedValue)
                }
            }
            if !hash.isEmpty, out.contains(where: { $0.tokenSHA256 == hash }) {
                r.problem("\(path)", uNode, "duplicate token: another user has the same token hash")
            }
            var allowed: Set<String>? = nil
            if let rNode = r.value(p, "routes"), let names = r.strings(rNode, "\(path).routes") {
                for n in names where !routes.contains(n) { r.problem("\(path).routes", rNode, "unknown route \"\(n)\"") }
                allowed = Set(names)
            }
            out.append(
                User(
                    name: name, tokenSHA256: hash, routes: allowed, limits: limits(r.value(p, "limits"), "\(path).limits", r),
                    admin: r.bool(r.value(p, "admin"), "\(path).admin") ?? false))
        }
        return out
    }

    static func hexBytes(_ hex: String) -> [UInt8]? {
        let chars = Array(hex.lowercased().utf8)
        guard chars.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count / 2)
        for i in stride(from: 0, to: chars.count, by: 2) {
            guard let hi = nibble(chars[i]), let lo = nibble(chars[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
        }
        return out
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        default: return nil
        }
    }
}
