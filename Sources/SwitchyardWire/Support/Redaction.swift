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
