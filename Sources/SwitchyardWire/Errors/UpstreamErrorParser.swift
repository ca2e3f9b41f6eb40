import Foundation

/// Reads upstream error bodies (OpenAI, OpenRouter, vLLM, HTML) into an `UpstreamFailure`,
/// rewording context-window errors the way Anthropic words them.
public enum UpstreamErrorParser {
    static let maxQuotedBody = 300

    /// An error answer with an HTTP status.
    public static func failure(status: Int, body: [UInt8], retryAfter: String?) -> UpstreamFailure {
        let parsed = message(in: body)
        var kind = UpstreamFailure.kind(forStatus: status)
        var text = parsed.message ?? "upstream returned HTTP \(status)"
        if kind == .badRequest || kind == .tooLarge, let rewritten = contextLengthMessage(text, code: parsed.code) {
            kind = .contextLength
            text = rewritten
        }
        return UpstreamFailure(kind: kind, upstreamStatus: status, message: text, retryAfter: kind == .rateLimited || kind == .serverError ? retryAfter : nil)
    }

    /// An error object found inside a 2xx answer or a stream chunk (`{"error":{"code":502,…}}`).
    public static func failure(errorObject: JSONValue, retryAfter: String? = nil) -> UpstreamFailure {
        let message = errorObject["message"]?.stringValue ?? "upstream reported an error"
        let codeValue = errorObject["code"]
        let status = codeValue?.intValue.map(Int.init)
        if let rewritten = contextLengthMessage(message, code: codeValue?.stringValue) {
            return UpstreamFailure(kind: .contextLength, upstreamStatus: 400, message: rewritten)
        }
        guard let status, (400..<600).contains(status) else {
            return UpstreamFailure(kind: .serverError, upstreamStatus: 502, message: message)
        }
        return UpstreamFailure(kind: UpstreamFailure.kind(forStatus: status), upstreamStatus: status, message: message, retryAfter: retryAfter)
    }

    /// The message and code of an error body, whatever its dialect; nil message for non-JSON.
    static func message(in body: [UInt8]) -> (message: String?, code: String?) {
        guard let json = try? JSONParser.parse(trimmingLeadingWhitespace(body)) else {
            let text = String(decoding: body.prefix(maxQuotedBody), as: UTF8.self)
                .replacingNonPrintable()
            return (text.isEmpty ? nil : "upstream returned a non-JSON error body: \(text)", nil)
        }
        if let error = json["error"] {
            if let s = error.stringValue { return (s, nil) }
            var message = error["message"]?.stringValue
            if let raw = error["metadata"]?["raw"]?.stringValue, !raw.isEmpty {
                message = (message ?? "") + " (" + String(raw.prefix(maxQuotedBody)) + ")"
            }
            if let reasons = error["metadata"]?["reasons"]?.arrayValue {
                let list = reasons.compactMap(\.stringValue).joined(separator: ", ")
                if !list.isEmpty { message = (message ?? "") + " (reasons: \(list))" }
            }
            let code = error["code"]?.stringValue ?? error["type"]?.stringValue
            return (message, code)
        }
        if let m = json["message"]?.stringValue { return (m, json["code"]?.stringValue) }
        if let d = json["detail"]?.stringValue { return (d, nil) }
        return (nil, nil)
    }

    /// `prompt is too long: N tokens > M maximum` for context-window errors, else nil.
    public static func contextLengthMessage(_ message: String, code: String?) -> String? {
        let lower = message.lowercased()
        let matches =
            code == "context_length_exceeded"
            || ["maximum context length", "context length", "context window", "too many tokens", "prompt is too long"].contains { lower.contains($0) }
        guard matches else { return nil }
        if lower.hasPrefix("prompt is too long") { return message }
        let maximum = number(after: "maximum context length is ", in: lower) ?? number(after: "context length of ", in: lower)
        let requested =
            number(after: "you requested ", in: lower) ?? number(after: "resulted in ", in: lower)
            ?? number(after: "prompt contains ", in: lower)
        if let maximum, let requested { return "prompt is too long: \(requested) tokens > \(maximum) maximum" }
        return "prompt is too long: \(message)"
    }

    static func number(after marker: String, in text: String) -> Int? {
        guard let range = text.range(of: marker) else { return nil }
        let digits = text[range.upperBound...].prefix { $0.isNumber || $0 == "," }.filter(\.isNumber)
        return Int(digits)
    }

    public static func trimmingLeadingWhitespace(_ body: [UInt8]) -> ArraySlice<UInt8> {
        var i = 0
        while i < body.count, body[i] == 0x20 || body[i] == 0x0A || body[i] == 0x0D || body[i] == 0x09 { i += 1 }
        return body[i...]
    }
}

extension JSONParser {
    static func parse(_ slice: ArraySlice<UInt8>) throws(JSONParseError) -> JSONValue {
        let result: Result<JSONValue, JSONParseError> = slice.withUnsafeBytes { raw in
            do throws(JSONParseError) { return .success(try parse(raw)) } catch { return .failure(error) }
        }
        return try result.get()
    }
}

extension String {
    /// Control characters replaced by spaces and whitespace runs folded, for quoting bodies in errors.
    func replacingNonPrintable() -> String {
        var out = ""
        var lastSpace = false
        for scalar in unicodeScalars {
            let isSpace = scalar.value < 0x20 || scalar.value == 0x7F || scalar == " "
            if isSpace {
                if !lastSpace { out.append(" ") }
                lastSpace = true
            } else {
                out.unicodeScalars.append(scalar)
                lastSpace = false
            }
        }
        return out.trimmingCharacters(in: .whitespaces)
    }
}

extension UpstreamErrorParser {
    /// An Anthropic error object (`{"type":"overloaded_error","message":…}`) as a failure.
    public static func anthropicFailure(_ error: JSONValue) -> UpstreamFailure {
        if let type = error["type"]?.stringValue.flatMap(AnthropicErrorType.init(rawValue:)) {
            return UpstreamErrorParser.failure(status: type.status, body: JSONWriter.encode(.object(["error": error])), retryAfter: nil)
        }
        return UpstreamErrorParser.failure(errorObject: error)
    }
}
