import Foundation

/// Carries OpenRouter `reasoning_details` through Anthropic thinking blocks and back
/// (translation-spec §2.6.1): Anthropic-format signatures travel raw; any other detail is stored
/// whole as `gw1:` + base64(JSON) in the signature (or `data`) that clients send back unmodified.
public enum ReasoningCodec {
    public static let prefix = "gw1:"
    public static let anthropicFormat = "anthropic-claude-v1"

    /// Encodes a detail object for a signature or redacted `data` field.
    public static func encode(_ detail: JSONValue) -> String {
        prefix + Data(JSONWriter.encode(detail)).base64EncodedString()
    }

    /// Decodes a `gw1:` value back into the original detail, or nil.
    public static func decode(_ value: String) -> JSONValue? {
        guard value.hasPrefix(prefix), let data = Data(base64Encoded: String(value.dropFirst(prefix.count))) else { return nil }
        return try? JSONParser.parse([UInt8](data))
    }

    /// The `reasoning_details` entry for a thinking block in history; nil when it has no signature.
    static func detail(thinking: String, signature: String, index: Int) -> JSONValue? {
        guard !signature.isEmpty else { return nil }
        if signature.hasPrefix(prefix) { return decode(signature) }
        return .object([
            "type": .string("reasoning.text"), "text": .string(thinking), "signature": .string(signature),
            "format": .string(anthropicFormat), "index": .int(Int64(index)),
        ])
    }

    /// The `reasoning_details` entry for a redacted_thinking block in history.
    static func detail(redacted data: String, index: Int) -> JSONValue? {
        guard !data.isEmpty else { return nil }
        if data.hasPrefix(prefix) { return decode(data) }
        return .object([
            "type": .string("reasoning.encrypted"), "data": .string(data),
            "format": .string(anthropicFormat), "index": .int(Int64(index)),
        ])
    }

    /// True when a thinking signature (or redacted data) cannot be verified by Anthropic itself.
    public static func isForeign(_ signatureOrData: String) -> Bool {
        signatureOrData.isEmpty || signatureOrData.hasPrefix(prefix)
    }
}
