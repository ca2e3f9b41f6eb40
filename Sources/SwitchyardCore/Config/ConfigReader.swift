import Foundation
import Yams

/// Walks a composed YAML tree for the loader: typed reads with defaults, unknown-key detection,
/// `${VAR}` expansion and `{file:}` secrets, collecting every problem with its path and line
/// instead of stopping at the first.
final class ConfigReader {
    private(set) var problems: [ConfigProblem] = []
    let expander: EnvironmentExpander
    let baseDirectory: String

    init(environment: [String: String], baseDirectory: String) {
        expander = EnvironmentExpander(environment: environment)
        self.baseDirectory = baseDirectory
    }

    func problem(_ path: String, _ node: Node?, _ message: String) {
        problems.append(ConfigProblem(path: path, line: node?.mark?.line, message: message))
    }

    static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// The pairs of a mapping (merge keys `<<` applied), reporting keys outside `allowed`.
    func mapping(_ node: Node?, _ path: String, allowed: Set<String>?) -> [(key: String, node: Node)]? {
        guard let node else { return nil }
        guard case .mapping(let m) = node else {
            problem(path, node, "expected a mapping")
            return nil
        }
        var out: [(key: String, node: Node)] = []
        for (k, v) in m {
            guard case .scalar(let s) = k else {
                problem(path, k, "keys must be strings")
                continue
            }
            if s.string == "<<" {
                let merged: [Node] = v.sequence.map(Array.init) ?? [v]
                for base in merged {
                    for pair in mapping(base, path, allowed: allowed) ?? [] where !out.contains(where: { $0.key == pair.key }) {
                        out.append(pair)
                    }
                }
                continue
            }
            if let allowed, !allowed.contains(s.string) {
                let hint = allowed.sorted().joined(separator: ", ")
                problem(Self.join(path, s.string), k, "unknown key (expected one of: \(hint))")
                continue
            }
            out.removeAll { $0.key == s.string }
            out.append((s.string, v))
        }
        return out
    }

    func value(_ pairs: [(key: String, node: Node)]?, _ key: String) -> Node? {
        pairs?.last { $0.key == key }?.node
    }

    /// A scalar as text with `${VAR}` expanded, whatever YAML type it resolves to (numbers,
    /// durations, booleans and other values that parse their own text).
    func text(_ node: Node?, _ path: String) -> String? {
        guard let node else { return nil }
        guard case .scalar(let s) = node else {
            problem(path, node, "expected a single value, not a list or mapping")
            return nil
        }
        switch expander.expand(s.string) {
        case .success(let v): return v
        case .failure(.missing(let name)):
            problem(path, node, "environment variable \(name) is not set (use ${\(name):-default} for a default)")
        case .failure(.malformed):
            problem(path, node, "malformed ${...} reference")
        }
        return nil
    }

    /// A scalar meant as a word, name, URL or path, with `${VAR}` expanded. A plain YAML boolean
    /// or null (`false`, `true`, `null`, `~`, nothing) is a problem, never silently the text
    /// "false": quoting it says the text is meant.
    func string(_ node: Node?, _ path: String) -> String? {
        guard let node else { return nil }
        if let kind = Self.nonTextKind(node) {
            problem(path, node, "expected text, got a YAML \(kind) (quote it if you mean the word)")
            return nil
        }
        return text(node, path)
    }

    /// "boolean" or "null" for an unquoted scalar YAML reads as one; nil for text.
    static func nonTextKind(_ node: Node) -> String? {
        guard case .scalar(let s) = node, s.style == .plain else { return nil }
        switch s.string.lowercased() {
        case "true", "false": return "boolean"
        case "null", "~", "": return "null"
        default: return nil
        }
    }

    func bool(_ node: Node?, _ path: String) -> Bool? {
        guard let text = text(node, path) else { return nil }
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            problem(path, node, "expected true or false, got \"\(text)\"")
            return nil
        }
    }

    /// An integer within `range`; below it a limit key gets "leave the key out" advice.
    func int(_ node: Node?, _ path: String, in range: ClosedRange<Int>) -> Int? {
        guard let text = text(node, path) else { return nil }
        guard let v = Int(text) else {
            problem(path, node, "expected an integer between \(range.lowerBound) and \(range.upperBound), got \"\(text)\"")
            return nil
        }
        guard v >= range.lowerBound else {
            problem(path, node, range.lowerBound == 1 ? "must be positive (leave the key out for no limit)" : "must be at least \(range.lowerBound)")
            return nil
        }
        guard v <= range.upperBound else {
            problem(path, node, "must be at most \(range.upperBound), got \(v)")
            return nil
        }
        return v
    }

    /// A duration within `range`.
    func duration(_ node: Node?, _ path: String, in range: ClosedRange<Duration>) -> Duration? {
        guard let text = text(node, path) else { return nil }
        let bounds = "between \(ConfigRanges.describe(range.lowerBound)) and \(ConfigRanges.describe(range.upperBound))"
        guard let seconds = ValueParsers.durationSeconds(text) else {
            problem(path, node, "expected a duration such as 250ms, 5s or 2m (\(bounds)), got \"\(text)\"")
            return nil
        }
        let lower = Double(range.lowerBound.components.seconds) + Double(range.lowerBound.components.attoseconds) / 1e18
        let upper = Double(range.upperBound.components.seconds) + Double(range.upperBound.components.attoseconds) / 1e18
        guard seconds >= lower - 1e-9, seconds <= upper + 1e-9 else {
            problem(path, node, "must be \(bounds), got \"\(text)\"")
            return nil
        }
        // In range, so the conversion cannot overflow.
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }

    /// A size in bytes within `range`.
    func size(_ node: Node?, _ path: String, in range: ClosedRange<Int>) -> Int? {
        guard let text = text(node, path) else { return nil }
        let bounds = "between \(ConfigRanges.describe(bytes: range.lowerBound)) and \(ConfigRanges.describe(bytes: range.upperBound))"
        guard let bytes = ValueParsers.sizeBytes(text) else {
            problem(path, node, "expected a size such as 32MiB or a byte count (\(bounds)), got \"\(text)\"")
            return nil
        }
        guard bytes >= Double(range.lowerBound), bytes <= Double(range.upperBound) else {
            problem(path, node, "must be \(bounds), got \"\(text)\"")
            return nil
        }
        return Int(bytes)
    }

    func strings(_ node: Node?, _ path: String) -> [String]? {
        guard let node else { return nil }
        guard case .sequence(let seq) = node else {
            problem(path, node, "expected a list")
            return nil
        }
        return seq.enumerated().compactMap { i, n in string(n, "\(path)[\(i)]") }
    }

    func sequence(_ node: Node?, _ path: String) -> [Node]? {
        guard let node else { return nil }
        guard case .sequence(let seq) = node else {
            problem(path, node, "expected a list")
            return nil
        }
        return Array(seq)
    }

    /// A secret: a literal, `${VAR}` or `{file: PATH}`. A missing variable is reported through
    /// `missingVariable` instead of as a problem when `allowMissing` (upstream keys: the gateway
    /// starts and answers with an error naming the variable).
    func secret(_ node: Node?, _ path: String, allowMissing: Bool) -> (secret: Secret?, missingVariable: String?) {
        guard let node else { return (nil, nil) }
        if case .mapping = node {
            let pairs = mapping(node, path, allowed: ConfigKeys.fileSecret)
            guard let file = string(value(pairs, "file"), Self.join(path, "file")) else {
                if value(pairs, "file") == nil { problem(path, node, "a secret mapping needs a `file` key") }
                return (nil, nil)
            }
            let full = file.hasPrefix("/") ? file : baseDirectory + "/" + file
            guard let data = FileManager.default.contents(atPath: full), var text = String(data: data, encoding: .utf8) else {
                problem(Self.join(path, "file"), node, "cannot read secret file \(file)")
                return (nil, nil)
            }
            while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
            if text.isEmpty { problem(Self.join(path, "file"), node, "secret file \(file) is empty") }
            return (Secret(text), nil)
        }
        guard case .scalar(let s) = node else {
            problem(path, node, "expected a string, ${VAR} or {file: PATH}")
            return (nil, nil)
        }
        switch Self.nonTextKind(node) {
        case "null": return (nil, nil)  // written but empty: no key, as when the key is left out
        case "boolean":
            problem(path, node, "expected a string, ${VAR} or {file: PATH}, got a YAML boolean (quote it if you mean the word)")
            return (nil, nil)
        default: break
        }
        switch expander.expand(s.string) {
        case .success(let v): return (v.isEmpty ? nil : Secret(v), nil)
        case .failure(.missing(let name)) where allowMissing: return (nil, name)
        case .failure(.missing(let name)):
            problem(path, node, "environment variable \(name) is not set")
        case .failure(.malformed):
            problem(path, node, "malformed ${...} reference")
        }
        return (nil, nil)
    }
}
