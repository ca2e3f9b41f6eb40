import Foundation
import SwitchyardWire

/// One golden case of the OpenAI front door (Chat Completions clients, Anthropic upstreams)
/// under Fixtures/openai-inbound: `case.json` says the kind and options; the files are the input
/// and the expected output (docs/openai-front-door.md).
struct OpenAIInboundCase: CustomStringConvertible, Sendable {
    let name: String
    let directory: URL
    let meta: JSONValue

    var description: String { name }
    var kind: String { meta["kind"]?.stringValue ?? "" }
    var upstreamModel: String { meta["upstream_model"]?.stringValue ?? "claude-target-model" }
    var maxTokensCap: Int? { meta["options"]?["max_tokens_cap"]?.intValue.map(Int.init) }
    var replyContext: ChatReplyContext {
        ChatReplyContext(
            clientModel: meta["client_model"]?.stringValue ?? "gpt-client", created: meta["created"]?.intValue ?? 1_700_000_000,
            includeUsage: meta["include_usage"]?.boolValue ?? false,
            reasoningContent: meta["options"]?["reasoning_content"]?.boolValue ?? false, estimatedInputTokens: 42)
    }

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/openai-inbound")

    static let all: [OpenAIInboundCase] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        return names.sorted().compactMap { name in
            let dir = root.appendingPathComponent(name)
            guard let data = try? Data(contentsOf: dir.appendingPathComponent("case.json")), let meta = try? JSONParser.parse([UInt8](data)) else { return nil }
            return OpenAIInboundCase(name: name, directory: dir, meta: meta)
        }
    }()

    static func of(kind: String) -> [OpenAIInboundCase] { all.filter { $0.kind == kind } }

    func bytes(_ file: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: directory.appendingPathComponent(file))) }
    func json(_ file: String) throws -> JSONValue { try JSONParser.parse(try bytes(file)) }

    /// The `data:` payloads of an SSE text, in order: parsed JSON, or `[DONE]` as a string.
    static func dataPayloads(_ sse: [UInt8]) -> [JSONValue] {
        String(decoding: sse, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true).compactMap { line in
            guard line.hasPrefix("data:") else { return nil }
            let payload = line.dropFirst(5).drop { $0 == " " }
            if payload == "[DONE]" { return .string("[DONE]") }
            return (try? JSONParser.parse(String(payload))) ?? .string("unparseable: \(payload)")
        }
    }

    /// `tool_calls[].function.arguments` strings parsed, so the comparison ignores key order and
    /// spacing inside them.
    static func normalisingArguments(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(var o):
            if o["arguments"] != nil, case .string(let s)? = o["arguments"], !s.isEmpty, let parsed = try? JSONParser.parse(s) {
                o["arguments"] = parsed
            }
            o.members = o.members.map { JSONMember($0.key, $0.key == "arguments" ? $0.value : normalisingArguments($0.value)) }
            return .object(o)
        case .array(let a): return .array(a.map(normalisingArguments))
        default: return value
        }
    }
}
