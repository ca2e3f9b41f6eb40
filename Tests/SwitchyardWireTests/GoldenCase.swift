import Foundation
import SwitchyardWire

/// One golden translation case directory under Fixtures/translation.
struct GoldenCase: CustomStringConvertible, Sendable {
    let name: String
    let directory: URL
    let meta: JSONValue

    var description: String { name }
    var kind: String { meta["kind"]?.stringValue ?? "" }
    var dialect: Dialect { Dialect(rawValue: meta["dialect"]?.stringValue ?? "openrouter") ?? .openrouter }
    var upstreamModel: String { meta["upstream_model"]?.stringValue ?? "test/model" }
    var clientModel: String { meta["client_model"]?.stringValue ?? "claude-sonnet-4-5" }

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/translation")

    static let all: [GoldenCase] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        return names.sorted().compactMap { name in
            let dir = root.appendingPathComponent(name)
            guard let meta = try? json(dir.appendingPathComponent("case.json")) else { return nil }
            return GoldenCase(name: name, directory: dir, meta: meta)
        }
    }()

    static func json(_ url: URL) throws -> JSONValue {
        try JSONParser.parse([UInt8](Data(contentsOf: url)))
    }

    func file(_ name: String) -> URL { directory.appendingPathComponent(name) }
    func has(_ name: String) -> Bool { FileManager.default.fileExists(atPath: file(name).path) }
    func json(_ name: String) throws -> JSONValue { try Self.json(file(name)) }
    func bytes(_ name: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: file(name))) }

    var options: TranslationOptions {
        let o = meta["options"]
        return TranslationOptions(
            dialect: dialect, upstreamModel: upstreamModel,
            stripBillingHeader: o?["strip_billing_header"]?.boolValue ?? true,
            cacheMode: o?["cache_mode"]?.boolValue ?? false)
    }

    /// What the response side knows of the request: its tools (aliases) and stop sequences.
    var responseContext: ResponseContext {
        let request = meta["request"]
        let tools: [Tool] = (request?["tools"]?.arrayValue ?? []).compactMap { t in
            guard let name = t["name"]?.stringValue, t["type"] == nil || t["type"]?.stringValue == "custom" else { return nil }
            return Tool(name: name, description: nil, inputSchema: JSONObject())
        }
        let stops = (request?["stop_sequences"]?.arrayValue ?? []).compactMap(\.stringValue)
        return ResponseContext(clientModel: clientModel, toolNames: ToolNameMap(tools: tools), stopSequences: stops, estimatedInputTokens: 42)
    }

    var upstreamStatus: Int {
        (try? json("upstream.json"))?["status"]?.intValue.map(Int.init) ?? 200
    }

    var upstreamRetryAfter: String? {
        guard let headers = (try? json("upstream.json"))?["headers"]?.objectValue else { return nil }
        return headers.members.first { $0.key.lowercased() == "retry-after" }?.value.stringValue
    }
}
