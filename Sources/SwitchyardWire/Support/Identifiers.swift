/// Random identifiers in Anthropic's style (`msg_` / `toolu_` / `req_` + 24 base62 characters).
public enum Identifiers {
    private static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    public static func make(prefix: String) -> String {
        var g = SystemRandomNumberGenerator()
        var out = Array(prefix.utf8)
        out.reserveCapacity(out.count + 24)
        for _ in 0..<24 { out.append(alphabet[Int(g.next(upperBound: UInt64(62)))]) }
        return String(decoding: out, as: UTF8.self)
    }

    public static func messageID() -> String { make(prefix: "msg_") }
    public static func toolUseID() -> String { make(prefix: "toolu_") }
    public static func requestID() -> String { make(prefix: "req_") }

    /// OpenAI proper rejects tool-call ids over 40 characters; longer ids are replaced by a
    /// deterministic `call_` + 35 hex digest, so calls and results stay paired without state.
    public static func openAIToolCallID(_ id: String) -> String {
        id.utf8.count <= 40 ? id : "call_" + String(SHA256Digest.hex(id).prefix(35))
    }
}

/// Maps client tool names to names an OpenAI upstream accepts (≤ 64 characters) and back.
/// Stateless: the reverse map is rebuilt from the request's own tool list.
public struct ToolNameMap: Sendable {
    public static let maxOpenAINameLength = 64
    private var originals: [String: String] = [:]

    public init(tools: [Tool]) {
        for tool in tools where tool.name.utf8.count > Self.maxOpenAINameLength {
            originals[Self.alias(tool.name)] = tool.name
        }
    }

    public init() {}

    /// `prefix(55) + "_" + sha256hex8` for long names; short names are unchanged.
    public static func alias(_ name: String) -> String {
        guard name.utf8.count > maxOpenAINameLength else { return name }
        return String(name.prefix(55)) + "_" + String(SHA256Digest.hex(name).prefix(8))
    }

    /// The client's name for an upstream function name.
    public func original(_ upstreamName: String) -> String {
        originals.isEmpty ? upstreamName : (originals[upstreamName] ?? upstreamName)
    }
}
