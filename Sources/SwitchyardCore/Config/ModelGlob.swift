import SwitchyardWire

/// A model-name glob (`claude-sonnet-*`, `*`, `claude-3-5-sonnet*`): `*` any run, `?` one
/// character, case-insensitive. Compiled once per config snapshot.
public struct ModelGlob: Sendable, CustomStringConvertible {
    public let pattern: String
    private let pieces: [[UInt8]]
    private let anchoredStart: Bool
    private let anchoredEnd: Bool
    private let hasQuestion: Bool

    public init(_ pattern: String) {
        self.pattern = pattern
        let lower = Array(pattern.lowercased().utf8)
        pieces = lower.split(separator: UInt8(ascii: "*"), omittingEmptySubsequences: false).map(Array.init)
        anchoredStart = lower.first != UInt8(ascii: "*")
        anchoredEnd = lower.last != UInt8(ascii: "*")
        hasQuestion = lower.contains(UInt8(ascii: "?"))
    }

    public var description: String { pattern }

    public func matches(_ model: String) -> Bool {
        matches(lowercasedUTF8: Array(model.lowercased().utf8))
    }

    /// Matches a model name already lowercased to UTF-8 (the router does that once per request).
    public func matches(lowercasedUTF8 text: [UInt8]) -> Bool {
        if hasQuestion { return Self.wildcard(Array(pattern.lowercased().utf8), text) }
        if pieces.count == 1 { return text == pieces[0] }
        var position = 0
        for (i, piece) in pieces.enumerated() {
            if piece.isEmpty { continue }
            if i == 0 && anchoredStart {
                guard text.starts(with: piece) else { return false }
                position = piece.count
            } else if i == pieces.count - 1 && anchoredEnd {
                guard text.count - position >= piece.count, text.suffix(piece.count).elementsEqual(piece) else { return false }
                position = text.count
            } else {
                guard let found = ByteSearch.firstIndex(of: piece, in: text, from: position) else { return false }
                position = found + piece.count
            }
        }
        return true
    }

    /// The UTF-8 length of the character that starts with `lead`.
    private static func scalarLength(_ lead: UInt8) -> Int {
        lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1
    }

    /// General matcher for patterns with `?` (rare): iterative with backtracking to the last `*`.
    private static func wildcard(_ p: [UInt8], _ t: [UInt8]) -> Bool {
        var pi = 0
        var ti = 0
        var star = -1
        var mark = 0
        while ti < t.count {
            if pi < p.count && p[pi] == UInt8(ascii: "?") {
                pi += 1
                ti = min(ti + scalarLength(t[ti]), t.count)  // one character, not one byte
            } else if pi < p.count && p[pi] == t[ti] {
                pi += 1
                ti += 1
            } else if pi < p.count && p[pi] == UInt8(ascii: "*") {
                star = pi
                mark = ti
                pi += 1
            } else if star >= 0 {
                pi = star + 1
                mark += 1
                ti = mark
            } else {
                return false
            }
        }
        while pi < p.count && p[pi] == UInt8(ascii: "*") { pi += 1 }
        return pi == p.count
    }
}
