/// Tracks whether streamed JSON text has closed every object and array it opened, scanning bytes
/// for brackets and string boundaries only — never parsing. Used to tell when a streamed tool
/// call's arguments are complete.
struct JSONBalance: Sendable {
    private var depth = 0
    private var inString = false
    private var escaped = false
    private var started = false

    /// True once something was opened and everything opened was closed.
    var complete: Bool { started && depth == 0 && !inString }

    mutating func scan(_ fragment: String) {
        for byte in fragment.utf8 {
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                started = true
            case UInt8(ascii: "}"), UInt8(ascii: "]"): depth = max(depth - 1, 0)
            default: break
            }
        }
    }
}
