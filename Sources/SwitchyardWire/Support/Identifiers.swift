#if canImport(Glibc)
    import Glibc
#endif

/// Random identifiers in Anthropic's style (`msg_` / `toolu_` / `req_` + 24 base62 characters).
public enum Identifiers {
    private static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    /// `prefix` + 24 base62 characters from the system CSPRNG (one `getrandom` per identifier).
    public static func make(prefix: String) -> String {
        var out = Array(prefix.utf8)
        out.reserveCapacity(out.count + 24)
        var pool = randomBytes(48)
        var used = 0
        while out.count < prefix.utf8.count + 24 {
            if used == pool.count {
                pool = randomBytes(48)
                used = 0
            }
            let b = pool[used] & 63  // rejection sampling keeps the alphabet unbiased
            used += 1
            if b < 62 { out.append(alphabet[Int(b)]) }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The kernel CSPRNG, opened once: one read per identifier instead of a syscall per word.
    private static let urandom: Int32 = open("/dev/urandom", O_RDONLY | O_CLOEXEC)

    /// `count` bytes from the kernel's CSPRNG in one call.
    static func randomBytes(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        bytes.withUnsafeMutableBytes { raw in
            var filled = 0
            while filled < count, urandom >= 0 {
                let n = read(urandom, raw.baseAddress! + filled, count - filled)
                if n > 0 { filled += n } else if errno != EINTR { break }
            }
            if filled < count {  // no /dev/urandom: fall back to the stdlib generator
                var g = SystemRandomNumberGenerator()
                for i in filled..<count { raw[i] = UInt8(truncatingIfNeeded: g.next()) }
            }
        }
        return bytes
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
