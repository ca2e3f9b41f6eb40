/// A validated Anthropic Messages request (`POST /v1/messages` and `count_tokens`).
///
/// Built by `MessagesRequest.decode`, which checks every field it reads and reports the first
/// violation with its path. `raw` keeps the original object for pass-through upstreams.
public struct MessagesRequest: Sendable {
    public var model: String
    /// Absent only for count_tokens requests.
    public var maxTokens: Int?
    public var system: [SystemText]
    public var messages: [Message]
    public var stream: Bool
    public var temperature: Double?
    public var topP: Double?
    public var topK: Int?
    public var stopSequences: [String]
    public var metadataUserID: String?
    public var tools: [Tool]
    /// Server tools (`web_search_*`, …) that an OpenAI upstream cannot run; dropped on translation.
    public var serverToolNames: [String]
    public var toolChoice: ToolChoice?
    public var thinking: Thinking?
    public var effort: String?
    public var outputSchema: JSONValue?
    /// Bytes of base64 image/PDF payloads and their count, for the token estimate.
    public var mediaBytes: Int
    public var mediaCount: Int
    public var raw: JSONObject

    /// Whether the request asks for extended thinking (`enabled` or `adaptive`).
    public var thinkingEnabled: Bool {
        switch thinking {
        case .enabled, .adaptive: return true
        case .disabled, nil: return false
        }
    }
}

/// A system prompt text part.
public struct SystemText: Sendable, Equatable {
    public var text: String
    public var cacheControl: JSONValue?
}

/// One conversation turn.
public struct Message: Sendable {
    public enum Role: String, Sendable { case user, assistant, system }
    public var role: Role
    public var content: [ContentBlock]
}

/// A content block of a message, as far as translation needs it.
public enum ContentBlock: Sendable {
    case text(String, cacheControl: JSONValue?)
    case image(ImageSource)
    case document(Document)
    case searchResult(SearchResult)
    case thinking(text: String, signature: String)
    case redactedThinking(data: String)
    case toolUse(id: String, name: String, input: JSONValue)
    case toolResult(ToolResult)
    /// A listed block type with no OpenAI mapping (server tool results, container uploads, …).
    case unmapped(type: String)
}

/// Where an image comes from.
public enum ImageSource: Sendable, Equatable {
    case base64(mediaType: String, data: String)
    case url(String)
    /// A Files API reference: cannot be forwarded to an OpenAI upstream.
    case file(id: String)
}

/// A `document` block.
public struct Document: Sendable {
    public enum Source: Sendable {
        case base64(mediaType: String, data: String)
        case url(String)
        case text(String)
        case content([ContentBlock])
        case file(id: String)
    }
    public var source: Source
    public var title: String?
    public var context: String?
}

/// A `search_result` block.
public struct SearchResult: Sendable {
    public var title: String
    public var source: String
    public var texts: [String]
}

/// A `tool_result` block.
public struct ToolResult: Sendable {
    public var toolUseID: String
    public var content: [ContentBlock]
    public var isError: Bool
}

/// A client tool definition.
public struct Tool: Sendable {
    public var name: String
    public var description: String?
    public var inputSchema: JSONObject

    public init(name: String, description: String?, inputSchema: JSONObject) {
        self.name = name
        self.description = description
        self.inputSchema = inputSchema
    }
}

/// `tool_choice`.
public struct ToolChoice: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case auto, any, none
        case tool(String)
    }
    public var kind: Kind
    public var disableParallelToolUse: Bool
}

/// `thinking`.
public enum Thinking: Sendable, Equatable {
    case enabled(budgetTokens: Int, display: String?)
    case adaptive(display: String?)
    case disabled
}
