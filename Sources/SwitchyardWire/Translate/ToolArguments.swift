import Foundation

/// Turns an upstream `function.arguments` string into a tool_use `input` object
/// (translation-spec §3.4): empty → {}, double-encoded → decoded, non-object → {"value": …},
/// broken → lightly repaired, else {}.
public enum ToolArguments {
    public static func parse(_ arguments: JSONValue?) -> (input: JSONValue, repaired: Bool) {
        guard let arguments else { return (.object([:]), false) }
        switch arguments {
        case .object: return (arguments, false)
        case .string(let s): return parse(string: s)
        case .null: return (.object([:]), false)
        default: return (.object(["value": arguments]), false)
        }
    }

    public static func parse(string: String) -> (input: JSONValue, repaired: Bool) {
        let trimmed = string.trimmingWhitespace()
        if trimmed.isEmpty { return (.object([:]), false) }
        if let value = try? JSONParser.parse(trimmed) { return (normalise(value), false) }
        if let repaired = repair(trimmed), let value = try? JSONParser.parse(repaired) {
            return (normalise(value), true)
        }
        return (.object([:]), true)
    }

    private static func normalise(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object: return value
        case .string(let inner):
            if let nested = try? JSONParser.parse(inner), case .object = nested { return nested }
            return .object(["value": value])
        default: return .object(["value": value])
        }
    }

    /// Strips code fences and trailing commas and closes unbalanced brackets and strings.
    static func repair(_ text: String) -> String? {
        var s = text
        if s.hasPrefix("```") {
            s = String(s.drop { $0 != "\n" }.dropFirst())
            if let fence = s.range(of: "```", options: .backwards) { s = String(s[..<fence.lowerBound]) }
        }
        var out = ""
        var stack: [Character] = []
        var inString = false
        var escaped = false
        for ch in s {
            if inString {
                out.append(ch)
                if escaped { escaped = false } else if ch == "\\" { escaped = true } else if ch == "\"" { inString = false }
                continue
            }
            switch ch {
            case "\"":
                inString = true
                out.append(ch)
            case "{":
                stack.append("}")
                out.append(ch)
            case "[":
                stack.append("]")
                out.append(ch)
            case "}", "]":
                while out.last?.isWhitespace == true { out.removeLast() }
                if out.last == "," { out.removeLast() }
                if stack.last == ch { stack.removeLast() }
                out.append(ch)
            default: out.append(ch)
            }
        }
        if inString { out.append("\"") }
        while out.last?.isWhitespace == true { out.removeLast() }
        if out.last == "," { out.removeLast() }
        if out.last == ":" { out.append("null") }
        out.append(contentsOf: stack.reversed())
        return out == text ? nil : out
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var view = Substring(self)
        while let f = view.first, f.isWhitespace { view = view.dropFirst() }
        while let l = view.last, l.isWhitespace { view = view.dropLast() }
        return String(view)
    }
}
