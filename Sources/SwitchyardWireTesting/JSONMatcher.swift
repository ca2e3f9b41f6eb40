import SwitchyardWire

/// Compares an actual JSON value with an expected one that may contain placeholders:
/// `"<msg_id>"`, `"<toolu_id>"`, `"<int>"`, `"<any>"`, `"<contains:TEXT>"`. Returns the first
/// difference as a path and a reason, or nil when they match. Object member order is ignored.
public enum JSONMatcher {
    public static func difference(expected: JSONValue, actual: JSONValue, path: String = "$") -> String? {
        if case .string(let e) = expected, e.hasPrefix("<"), e.hasSuffix(">") {
            return placeholder(e, actual: actual, path: path)
        }
        switch (expected, actual) {
        case (.object(let e), .object(let a)):
            let missing = e.members.map(\.key).filter { a[$0] == nil }
            let extra = a.members.map(\.key).filter { e[$0] == nil }
            if !missing.isEmpty || !extra.isEmpty {
                return "\(path): keys differ (missing \(missing), unexpected \(extra))"
            }
            for member in e.members {
                if let d = difference(expected: member.value, actual: a[member.key]!, path: "\(path).\(member.key)") { return d }
            }
            return nil
        case (.array(let e), .array(let a)):
            guard e.count == a.count else { return "\(path): expected \(e.count) elements, got \(a.count): \(JSONWriter.encodeString(actual).prefix(400))" }
            for i in e.indices {
                if let d = difference(expected: e[i], actual: a[i], path: "\(path)[\(i)]") { return d }
            }
            return nil
        default:
            return expected == actual
                ? nil : "\(path): expected \(JSONWriter.encodeString(expected).prefix(300)), got \(JSONWriter.encodeString(actual).prefix(300))"
        }
    }

    static func placeholder(_ p: String, actual: JSONValue, path: String) -> String? {
        switch p {
        case "<any>": return nil
        case "<int>":
            if let i = actual.intValue, i >= 0, case .int = actual { return nil }
            return "\(path): expected an integer >= 0, got \(JSONWriter.encodeString(actual))"
        case "<msg_id>": return idMatch(actual, prefix: "msg_", path: path)
        case "<toolu_id>": return idMatch(actual, prefix: "toolu_", path: path)
        default:
            if p.hasPrefix("<contains:") {
                let needle = String(p.dropFirst("<contains:".count).dropLast())
                if let s = actual.stringValue, s.contains(needle) { return nil }
                return "\(path): expected a string containing \"\(needle)\", got \(JSONWriter.encodeString(actual).prefix(300))"
            }
            if actual == .string(p) { return nil }
            return "\(path): expected \(p), got \(JSONWriter.encodeString(actual).prefix(300))"
        }
    }

    static func idMatch(_ actual: JSONValue, prefix: String, path: String) -> String? {
        guard let s = actual.stringValue, s.hasPrefix(prefix), s.count == prefix.count + 24,
            s.dropFirst(prefix.count).allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) })
        else {
            return "\(path): expected \(prefix) + 24 base62, got \(JSONWriter.encodeString(actual))"
        }
        return nil
    }
}
