import Foundation
import SwitchyardWire

/// Parses Anthropic SSE output (`event:` + `data:` pairs) into `{"event","data"}` objects, for
/// comparing streams in tests.
public enum SSEEvents {
    public static func parse(_ bytes: [UInt8], includePings: Bool = false) -> [JSONValue] {
        var events: [JSONValue] = []
        var name: String? = nil
        let text = String(decoding: bytes, as: UTF8.self)
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.hasPrefix("event:") {
                name = line.dropFirst(6).trimmingCharacters(in: .whitespaces)
            } else if line.hasPrefix("data:") {
                let payload = String(line.dropFirst(5)).trimmingCharacters(in: .whitespaces)
                let data = (try? JSONParser.parse(payload)) ?? .string(payload)
                if includePings || name != "ping" {
                    events.append(.object(["event": .string(name ?? ""), "data": data]))
                }
                name = nil
            }
        }
        return events
    }
}
