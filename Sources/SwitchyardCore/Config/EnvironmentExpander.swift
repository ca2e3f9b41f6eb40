/// Expands `${NAME}` and `${NAME:-default}` in parsed YAML string values (never in comments,
/// which the YAML parser has already dropped). `$${` is a literal `${`.
struct EnvironmentExpander: Sendable {
    let environment: [String: String]

    enum Failure: Error, Equatable {
        case missing(String)
        case malformed
    }

    func expand(_ text: String) -> Result<String, Failure> {
        guard text.contains("$") else { return .success(text) }
        var out = ""
        var rest = Substring(text)
        while let dollar = rest.firstIndex(of: "$") {
            out += rest[..<dollar]
            let after = rest[rest.index(after: dollar)...]
            if after.hasPrefix("${") {
                out += "${"
                rest = after.dropFirst(2)
                continue
            }
            guard after.hasPrefix("{") else {
                out += "$"
                rest = after
                continue
            }
            guard let close = after.firstIndex(of: "}") else { return .failure(.malformed) }
            let inner = after[after.index(after: after.startIndex)..<close]
            let name: Substring
            var fallback: Substring? = nil
            if let sep = inner.range(of: ":-") {
                name = inner[..<sep.lowerBound]
                fallback = inner[sep.upperBound...]
            } else {
                name = inner
            }
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else { return .failure(.malformed) }
            if let value = environment[String(name)], !value.isEmpty {
                out += value
            } else if let fallback {
                out += fallback
            } else {
                return .failure(.missing(String(name)))
            }
            rest = after[after.index(after: close)...]
        }
        out += rest
        return .success(out)
    }
}
