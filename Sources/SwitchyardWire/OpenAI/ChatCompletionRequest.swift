/// A validated OpenAI Chat Completions request (`POST /v1/chat/completions`).
///
/// Built by `ChatCompletionRequest.decode`, which checks every field the gateway reads and names
/// the first bad one (`messages[2].content[1].type`). `raw` keeps the client's object: an
/// OpenAI-compatible upstream gets it with only the model (and a few gateway fields) changed.
public struct ChatCompletionRequest: Sendable {
    public var model: String
    public var messages: [ChatMessage]
    public var stream: Bool
    /// `stream_options.include_usage`: whether the client wants the final usage chunk.
    public var includeUsage: Bool
    /// `max_completion_tokens`, else `max_tokens`.
    public var maxTokens: Int?
    public var temperature: Double?
    public var topP: Double?
    public var stop: [String]
    /// `safety_identifier`, else `user`.
    public var endUser: String?
    public var tools: [ChatTool]
    public var toolChoice: ChatToolChoice?
    public var parallelToolCalls: Bool?
    public var reasoningEffort: String?
    public var responseFormat: ChatResponseFormat?
    /// Bytes of inline (data URL) media and their count, for the token estimate.
    public var mediaBytes: Int
    public var mediaCount: Int
    public var raw: JSONObject

    /// The `reasoning_effort` values that ask for thinking, and their budgets (translation-spec §7).
    public static let effortBudgets: [String: Int] = ["low": 1024, "medium": 2048, "high": 4096, "xhigh": 8192, "max": 16384]
    /// `reasoning_effort` values that ask for no thinking.
    public static let effortsWithoutThinking: Set<String> = ["none", "minimal"]

    /// Whether `reasoning_effort` asks for thinking.
    public var thinkingEnabled: Bool { reasoningEffort.map { Self.effortBudgets[$0] != nil } ?? false }
}

/// One message of a Chat Completions conversation.
public struct ChatMessage: Sendable {
    public enum Role: String, Sendable { case system, developer, user, assistant, tool, function }
    public var role: Role
    public var content: ChatContent
    public var toolCalls: [ChatToolCall]
    /// `tool_call_id` of a tool message (for a legacy `function` message: its `name`).
    public var toolCallID: String?
}

/// Message content: absent, a string, or typed parts.
public enum ChatContent: Sendable {
    case none
    case text(String)
    case parts([ChatPart])
}

/// A content part.
public enum ChatPart: Sendable {
    case text(String)
    /// `image_url.url`: a `data:` URL or an http(s) URL.
    case imageURL(String)
    /// `file`: inline `file_data` (a data URL) or an uploaded `file_id`.
    case file(data: String?, id: String?)
    /// An assistant's `refusal` part.
    case refusal(String)
}

/// An assistant's function call.
public struct ChatToolCall: Sendable {
    public var id: String
    public var name: String
    /// The arguments as the model wrote them (a JSON text, not necessarily valid).
    public var arguments: String
}

/// A function tool definition.
public struct ChatTool: Sendable {
    public var name: String
    public var description: String?
    public var parameters: JSONObject?
}

/// `tool_choice`.
public enum ChatToolChoice: Sendable, Equatable {
    case auto, required
    /// `"none"`: the model must not call a tool.
    case disabled
    case function(String)
}

/// `response_format`.
public enum ChatResponseFormat: Sendable {
    case text
    case jsonObject
    case jsonSchema(JSONObject)
}
