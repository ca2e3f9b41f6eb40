/// A strict UTF-8 validator (no overlongs, no surrogates, nothing above U+10FFFF), used by the
/// parser on strings that contain non-ASCII bytes; ASCII strings skip it.
enum UTF8Validation {
    static func isValid(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        let n = bytes.count
        while i < n {
            let b0 = bytes[i]
            if b0 < 0x80 {
                i += 1
                continue
            }
            if b0 >= 0xC2 && b0 <= 0xDF {
                guard i + 1 < n, isContinuation(bytes[i + 1]) else { return false }
                i += 2
            } else if b0 >= 0xE0 && b0 <= 0xEF {
                guard i + 2 < n else { return false }
                let b1 = bytes[i + 1]
                let lower: UInt8 = b0 == 0xE0 ? 0xA0 : 0x80
                let upper: UInt8 = b0 == 0xED ? 0x9F : 0xBF
                guard b1 >= lower && b1 <= upper, isContinuation(bytes[i + 2]) else { return false }
                i += 3
            } else if b0 >= 0xF0 && b0 <= 0xF4 {
                guard i + 3 < n else { return false }
                let b1 = bytes[i + 1]
                let lower: UInt8 = b0 == 0xF0 ? 0x90 : 0x80
                let upper: UInt8 = b0 == 0xF4 ? 0x8F : 0xBF
                guard b1 >= lower && b1 <= upper, isContinuation(bytes[i + 2]), isContinuation(bytes[i + 3]) else { return false }
                i += 4
            } else {
                return false
            }
        }
        return true
    }

    @inline(__always) static func isContinuation(_ b: UInt8) -> Bool { b & 0xC0 == 0x80 }
}
