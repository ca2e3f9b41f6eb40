/// Splits an SSE byte stream into lines (`\n`, `\r\n` or `\r`), however the bytes are chunked.
/// A line longer than `maxLineBytes` is an error, so a hostile upstream cannot grow memory.
public struct SSELineSplitter: Sendable {
    public struct LineTooLong: Error {}

    private var pending: [UInt8] = []
    private var skipLeadingLF = false
    public let maxLineBytes: Int

    public init(maxLineBytes: Int = 16 << 20) {
        self.maxLineBytes = maxLineBytes
    }

    /// Calls `onLine` for each complete line in `bytes`.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, _ onLine: (UnsafeRawBufferPointer) throws -> Void) throws {
        var start = 0
        var i = 0
        let count = bytes.count
        if skipLeadingLF, count > 0 {
            skipLeadingLF = false
            if bytes[0] == 0x0A {
                start = 1
                i = 1
            }
        }
        while i < count {
            let c = bytes[i]
            if c == 0x0A || c == 0x0D {
                let piece = UnsafeRawBufferPointer(rebasing: bytes[start..<i])
                if pending.isEmpty {
                    if piece.count > maxLineBytes { throw LineTooLong() }
                    try onLine(piece)
                } else {
                    pending.append(contentsOf: piece)
                    if pending.count > maxLineBytes { throw LineTooLong() }
                    try pending.withUnsafeBytes { try onLine($0) }
                    pending.removeAll(keepingCapacity: pending.count < 65536)
                }
                if c == 0x0D {
                    if i + 1 < count {
                        if bytes[i + 1] == 0x0A { i += 1 }
                    } else {
                        skipLeadingLF = true
                    }
                }
                i += 1
                start = i
                continue
            }
            i += 1
        }
        if start < count {
            pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[start..<count]))
            if pending.count > maxLineBytes { throw LineTooLong() }
        }
    }

    /// The unterminated last line, if any (consumed).
    public mutating func flush() -> [UInt8]? {
        guard !pending.isEmpty else { return nil }
        defer { pending = [] }
        return pending
    }
}
