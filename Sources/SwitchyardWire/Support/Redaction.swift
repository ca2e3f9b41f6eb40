import Foundation

extension String {
    /// This text with every occurrence of the given secrets (of four characters or more)
    /// replaced by `***`: the one redaction rule for upstream error text and verbose logs.
    public func redacting(_ secrets: [String]) -> String {
        var text = self
        for secret in secrets where secret.count >= 4 && text.contains(secret) {
            text = text.replacingOccurrences(of: secret, with: "***")
        }
        return text
    }
}

extension String {
    /// Redacts first, then cuts to at most `limit` UTF-8 bytes: a secret is never cut before it is
    /// blanked (so no prefix of it survives), and the cut never ends inside a `***` mask.
    public func redacting(_ secrets: [String], truncatedTo limit: Int) -> String {
        let bytes = SecretScrubber.scrubAll(Array(utf8), secrets: secrets)
        return String(decoding: Self.cut(bytes, to: limit), as: UTF8.self)
    }

    /// `bytes` cut to `limit`, backed off out of a `***` mask it would split.
    public static func cut(_ bytes: [UInt8], to limit: Int) -> ArraySlice<UInt8> {
        guard bytes.count > limit else { return bytes[...] }
        var end = limit
        let star = UInt8(ascii: "*")
        if bytes[end] == star { while end > 0 && bytes[end - 1] == star { end -= 1 } }
        return bytes[..<end]
    }
}

/// Finds a byte sequence in a byte array (naive: needles here are short, a key or a glob piece).
public enum ByteSearch {
    public static func firstIndex(of needle: [UInt8], in hay: [UInt8], from start: Int = 0) -> Int? {
        guard !needle.isEmpty, hay.count - start >= needle.count else { return nil }
        var i = start
        while i + needle.count <= hay.count {
            if hay[i] == needle[0], hay[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }
}
