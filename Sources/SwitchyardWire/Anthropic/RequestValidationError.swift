/// A Messages request that breaks the schema: the dotted field path and what is wrong with it,
/// rendered as `messages.3.content.0.type: unknown block type "foo"`.
public struct RequestValidationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var problem: String

    public init(path: String, problem: String) {
        self.path = path
        self.problem = problem
    }

    public var description: String { path.isEmpty ? problem : "\(path): \(problem)" }
}

/// A position inside a JSON document, kept as a stack while decoding so that a path string is
/// only built when something is wrong.
struct FieldPath {
    enum Component {
        case key(String)
        case index(Int)
    }

    private(set) var components: [Component] = []
    /// OpenAI style (`messages[2].content[1].type`) instead of Anthropic's dotted indices.
    let bracketed: Bool

    init(bracketed: Bool = false) {
        self.bracketed = bracketed
        components.reserveCapacity(8)
    }

    mutating func push(_ key: String) { components.append(.key(key)) }
    mutating func push(_ index: Int) { components.append(.index(index)) }
    mutating func pop() { components.removeLast() }

    var rendered: String {
        var out = ""
        for (i, c) in components.enumerated() {
            switch c {
            case .key(let k):
                if i > 0 { out += "." }
                out += k
            case .index(let n):
                if bracketed {
                    out += "[\(n)]"
                } else {
                    if i > 0 { out += "." }
                    out += String(n)
                }
            }
        }
        return out
    }
}

/// A client-supplied value quoted in an error message: at most 20 characters, so a secret sent
/// in the wrong field (a token as a role or model name) is never echoed whole.
public func quoted(_ value: String) -> String {
    let clean = value.filter { !$0.isNewline }
    return clean.count <= 20 ? "\"\(clean)\"" : "\"\(clean.prefix(16))…\""
}
