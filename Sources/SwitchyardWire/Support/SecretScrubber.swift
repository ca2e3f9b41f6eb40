/// Blanks secrets (upstream keys, provider header values) out of bytes relayed to a client,
/// however those bytes are chunked: a chunk that ends with the first bytes of a secret keeps them
/// back until the next chunk shows whether the secret follows. Only such a partial match is ever
/// held, so ordinary SSE events (which end in `\n\n`) pass through at once.
///
/// Secrets shorter than `minimumLength` are ignored (they would blank ordinary text).
public struct SecretScrubber: Sendable {
    public static let minimumLength = 4
    static let mask: [UInt8] = Array("***".utf8)

    private let needles: [[UInt8]]
    /// The secrets scrubbed (for whole-text redaction of the same set).
    public let secrets: [String]
    private var held: [UInt8] = []

    public init(secrets: [String]) {
        var seen = Set<String>()
        self.secrets = secrets.filter { $0.utf8.count >= Self.minimumLength && seen.insert($0).inserted }
        needles = self.secrets.map { Array($0.utf8) }
    }

    /// True when there is nothing to scrub (every call is then a plain pass-through).
    public var isEmpty: Bool { needles.isEmpty }

    /// The bytes of `chunk` (after any held bytes) that are safe to send now.
    public mutating func scrub(_ chunk: [UInt8]) -> [UInt8] {
        guard !needles.isEmpty else { return chunk }
        var data: [UInt8]
        if held.isEmpty {
            guard mayContainSecret(chunk) else { return chunk }
            data = chunk
        } else {
            data = held + chunk
            held = []
        }
        data = replaceWhole(data)
        let keep = partialSuffixLength(data)
        if keep > 0 {
            held = Array(data[(data.count - keep)...])
            data.removeLast(keep)
        }
        return data
    }

    /// What is still held at the end of the stream. A held run of more than
    /// `maximumHarmlessPrefix` bytes is the start of a secret that was cut off: it is blanked,
    /// so a truncated secret leaks no prefix. A shorter run (text ending in `s` or `sk-`, the
    /// public format of most keys) is ordinary text and is given back.
    public mutating func finish() -> [UInt8] {
        defer { held = [] }
        return held.count <= Self.maximumHarmlessPrefix ? held : Self.mask
    }

    static let maximumHarmlessPrefix = 5

    /// A whole body in one go (nothing can follow it).
    public static func scrubAll(_ body: [UInt8], secrets: [String]) -> [UInt8] {
        SecretScrubber(secrets: secrets).scrubbingAll(body)
    }

    /// A whole body in one go with this scrubber's secrets (a fresh copy: nothing is held).
    /// Lets a caller build the scrubber once and use it for every body.
    public func scrubbingAll(_ body: [UInt8]) -> [UInt8] {
        guard !needles.isEmpty else { return body }
        var copy = self
        return copy.scrub(body) + copy.finish()
    }

    /// A quick pre-check: does any needle's first byte occur at all?
    private func mayContainSecret(_ bytes: [UInt8]) -> Bool {
        for needle in needles where bytes.contains(needle[0]) { return true }
        return false
    }

    private func replaceWhole(_ bytes: [UInt8]) -> [UInt8] {
        var out = bytes
        for needle in needles {
            var from = 0
            while let start = ByteSearch.firstIndex(of: needle, in: out, from: from) {
                out.replaceSubrange(start..<(start + needle.count), with: Self.mask)
                from = start + Self.mask.count
            }
        }
        return out
    }

    /// The length of the longest suffix of `bytes` that is a proper prefix of some secret.
    private func partialSuffixLength(_ bytes: [UInt8]) -> Int {
        var longest = 0
        for needle in needles {
            let window = min(needle.count - 1, bytes.count)
            guard window > longest else { continue }
            var k = window
            while k > longest {
                let start = bytes.count - k
                if bytes[start] == needle[0], bytes[start...].elementsEqual(needle[..<k]) {
                    longest = k
                    break
                }
                k -= 1
            }
        }
        return longest
    }
}
