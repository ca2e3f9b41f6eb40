/// Relays an SSE byte stream event by event: bytes after the last complete event (a blank line
/// ends an event) are held until the rest arrives. A passed-through stream that breaks in the
/// middle of an event then ends with the gateway's `event: error` after whole events only, never
/// after half an event that no client could parse. Chunks that end on an event boundary (the
/// usual case) pass through without a copy.
public struct SSEEventFramer: Sendable {
    private var tail: [UInt8] = []

    public init() {}

    /// Bytes held back waiting for the end of their event.
    public var pendingBytes: Int { tail.count }

    /// The complete events of what is held plus `chunk`; the incomplete rest is kept.
    public mutating func complete(_ chunk: [UInt8]) -> [UInt8] {
        if tail.isEmpty, Self.endsOnBoundary(chunk[...]) { return chunk }
        var data = tail
        data.append(contentsOf: chunk)
        guard let end = Self.lastBoundaryEnd(data) else {
            tail = data
            return []
        }
        tail = Array(data[end...])
        data.removeLast(data.count - end)
        return data
    }

    /// The stream ended cleanly: what is left (an unterminated last event, relayed as sent).
    public mutating func finish() -> [UInt8] {
        defer { tail = [] }
        return tail
    }

    /// Drops a held partial event (the stream failed).
    public mutating func discard() { tail = [] }

    static func endsOnBoundary(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard bytes.count >= 2, bytes.last == 0x0A else { return false }
        let i = bytes.endIndex - 2
        return bytes[i] == 0x0A || (bytes[i] == 0x0D && i > bytes.startIndex && bytes[i - 1] == 0x0A)
    }

    /// The index just past the last blank line (`\n\n` or `\n\r\n`), if any.
    static func lastBoundaryEnd(_ bytes: [UInt8]) -> Int? {
        var i = bytes.count - 1
        while i >= 1 {
            if bytes[i] == 0x0A {
                if bytes[i - 1] == 0x0A { return i + 1 }
                if bytes[i - 1] == 0x0D, i >= 2, bytes[i - 2] == 0x0A { return i + 1 }
            }
            i -= 1
        }
        return nil
    }
}
