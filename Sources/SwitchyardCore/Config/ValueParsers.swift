import Foundation

/// Parsers for the config's scalar formats: durations (`250ms`, `5s`, `2m`, `1h`, `90d`), sizes
/// (`32MiB`, `64KiB`, `1GB`, plain bytes) and `host:port` addresses. Numbers come back as
/// `Double`s (finite, never negative) so that the caller range-checks them before any integer
/// conversion: no text can overflow.
enum ValueParsers {
    /// A duration in seconds.
    static func durationSeconds(_ text: String) -> Double? {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86_400)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            let number = text.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)
            // "ms" also ends in "s": make sure the number part is a number.
            guard let value = plainNumber(number) else { continue }
            return value * scale
        }
        return nil
    }

    /// A size in bytes.
    static func sizeBytes(_ text: String) -> Double? {
        let units: [(String, Double)] = [
            ("KiB", 1024), ("MiB", 1_048_576), ("GiB", 1_073_741_824), ("KB", 1000), ("MB", 1_000_000), ("GB", 1_000_000_000),
            ("K", 1024), ("M", 1_048_576), ("G", 1_073_741_824), ("B", 1),
        ]
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let plain = plainNumber(trimmed) { return plain }
        for (suffix, scale) in units where trimmed.hasSuffix(suffix) {
            let number = trimmed.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)
            if let value = plainNumber(number) { return value * scale }
        }
        return nil
    }

    /// A non-negative finite decimal (`30`, `1.5`, `1e3`): digits, one `.`, an exponent; no
    /// sign in front, no hex, no `inf`, no `nan`.
    static func plainNumber(_ text: String) -> Double? {
        let bytes = Array(text.utf8)
        guard let first = bytes.first, first != UInt8(ascii: "+"), first != UInt8(ascii: "-"),
            bytes.allSatisfy({
                ($0 >= 0x30 && $0 <= 0x39) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E")
                    || $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "-")
            }),
            let value = Double(text), value.isFinite, value >= 0
        else { return nil }
        return value
    }

    /// `host:port`, `[v6]:port` or `:port` (all interfaces).
    static func hostPort(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        var host = String(text[..<colon])
        guard let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else { return nil }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host.isEmpty { host = "0.0.0.0" }
        return (host, port)
    }
}
