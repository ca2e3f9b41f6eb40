import Foundation

/// The gateway's one RFC 3339 formatter (UTC, `2026-12-03T12:00:00Z`, optionally with
/// milliseconds), written by hand: `String(format:)` costs microseconds on the request path.
public enum Timestamps {
    /// Unix seconds as RFC 3339.
    public static func rfc3339(_ seconds: Int64) -> String {
        format(seconds: seconds, millis: nil)
    }

    /// Now, with milliseconds (the access log's `time`).
    public static func nowWithMillis() -> String {
        var t = timespec()
        clock_gettime(CLOCK_REALTIME, &t)
        return format(seconds: Int64(t.tv_sec), millis: Int(t.tv_nsec / 1_000_000))
    }

    static func format(seconds: Int64, millis: Int?) -> String {
        var tmv = tm()
        var t = time_t(seconds)
        gmtime_r(&t, &tmv)
        var out: [UInt8] = []
        out.reserveCapacity(24)
        func digits(_ value: Int, _ count: Int) {
            var divisor = 1
            for _ in 1..<count { divisor *= 10 }
            var v = value
            while divisor > 0 {
                out.append(UInt8(ascii: "0") + UInt8(v / divisor % 10))
                v %= divisor
                divisor /= 10
            }
        }
        digits(Int(tmv.tm_year) + 1900, 4)
        out.append(UInt8(ascii: "-"))
        digits(Int(tmv.tm_mon) + 1, 2)
        out.append(UInt8(ascii: "-"))
        digits(Int(tmv.tm_mday), 2)
        out.append(UInt8(ascii: "T"))
        digits(Int(tmv.tm_hour), 2)
        out.append(UInt8(ascii: ":"))
        digits(Int(tmv.tm_min), 2)
        out.append(UInt8(ascii: ":"))
        digits(Int(tmv.tm_sec), 2)
        if let millis {
            out.append(UInt8(ascii: "."))
            digits(millis, 3)
        }
        out.append(UInt8(ascii: "Z"))
        return String(decoding: out, as: UTF8.self)
    }
}
