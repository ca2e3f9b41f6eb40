import Foundation

/// Reads an upstream `Retry-After` header (RFC 9110 §10.2.3) into a bounded wait. The header is
/// untrusted: delay-seconds (digits, a fraction tolerated) or an IMF-fixdate HTTP-date; anything
/// else, anything negative, not finite or longer than `maxSeconds` is "no usable advice" (nil),
/// so no value can overflow a duration or stall a retry.
public enum RetryAfter {
    /// The longest wait an upstream may advise (one day).
    public static let maxSeconds: Double = 86_400

    /// Seconds to wait (0...maxSeconds), or nil. `now` is the current Unix time, for HTTP-dates.
    public static func seconds(_ header: String, now: Double = Date().timeIntervalSince1970) -> Double? {
        let text = header.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty, text.utf8.count <= 64 else { return nil }
        if let delay = delaySeconds(text) { return delay <= maxSeconds ? delay : nil }
        guard let date = httpDate(text) else { return nil }
        let wait = max(date - now, 0)
        return wait <= maxSeconds ? wait : nil
    }

    /// `120` or `1.5`: digits with an optional fraction; no sign, exponent, inf or nan.
    static func delaySeconds(_ text: String) -> Double? {
        var sawDot = false
        var digits = 0
        for c in text.utf8 {
            if c == UInt8(ascii: ".") {
                if sawDot { return nil }
                sawDot = true
            } else if c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") {
                digits += 1
            } else {
                return nil
            }
        }
        // More than 15 characters is more than a day anyway: no advice.
        guard digits > 0, text.utf8.count <= 15 else { return nil }
        return Double(text)
    }

    /// `Sun, 06 Nov 1994 08:49:37 GMT` (IMF-fixdate) as Unix time.
    static func httpDate(_ text: String) -> Double? {
        let parts = text.split(separator: " ")
        guard parts.count == 6, parts[0].hasSuffix(","), parts[5] == "GMT",
            let day = Int(parts[1]), (1...31).contains(day),
            let month = months.firstIndex(of: String(parts[2])),
            let year = Int(parts[3]), (1970...9999).contains(year)
        else { return nil }
        let clock = parts[4].split(separator: ":")
        guard clock.count == 3, let h = Int(clock[0]), let m = Int(clock[1]), let s = Int(clock[2]),
            (0...23).contains(h), (0...59).contains(m), (0...60).contains(s)
        else { return nil }
        var fields = tm()
        fields.tm_year = Int32(year - 1900)
        fields.tm_mon = Int32(month)
        fields.tm_mday = Int32(day)
        fields.tm_hour = Int32(h)
        fields.tm_min = Int32(m)
        fields.tm_sec = Int32(s)
        return Double(timegm(&fields))
    }

    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
}
