import SwitchyardCore
import Testing

/// Request paths to endpoints: the Anthropic and OpenAI paths, their `/anthropic/` and
/// `/openai/v1/` aliases, trailing slashes, and everything else unknown.
@Suite struct InboundEndpointTests {
    @Test(arguments: [
        ("/v1/messages", InboundEndpoint.messages),
        ("/v1/messages/", .messages),
        ("/v1/messages///", .messages),
        ("/anthropic/v1/messages", .messages),
        ("/anthropic/v1/messages/", .messages),
        ("/v1/messages/count_tokens", .countTokens),
        ("/anthropic/v1/messages/count_tokens", .countTokens),
        ("/v1/chat/completions", .chatCompletions),
        ("/v1/chat/completions/", .chatCompletions),
        ("/openai/v1/chat/completions", .chatCompletions),
        ("/openai/v1/chat/completions/", .chatCompletions),
        ("/anthropic/v1/chat/completions", .chatCompletions),  // README: every path also under /anthropic/
        ("/v1/models", .models),
        ("/v1/models/", .models),
        ("/openai/v1/models", .models),
        ("/anthropic/v1/models", .models),
        ("/v1/models/claude-sonnet-4-5", .model("claude-sonnet-4-5")),
        ("/v1/models/claude-sonnet-4-5/", .model("claude-sonnet-4-5")),
        ("/openai/v1/models/gpt-4o", .model("gpt-4o")),
        ("/v1/models/openai/gpt-oss-120b:free", .model("openai/gpt-oss-120b:free")),
        ("/health", .health),
        ("/health/", .health),
        ("/anthropic/health", .health),
        ("/", .hello),
        ("/api/hello", .hello),
        ("/metrics", .metrics),
        ("/v1/usage", .usage),
        ("/v1/usage/budget", .usageBudget),
        ("/ui", .ui),
        ("/ui/", .ui),
    ])
    func knownPaths(_ path: String, _ endpoint: InboundEndpoint) {
        #expect(InboundEndpoint(path: path) == endpoint)
    }

    @Test(arguments: [
        "", "/v1", "/v1/", "/v2/messages", "/V1/messages", "/v1/message", "/v1/messagesx", "/v1/messages/count_tokens/x",
        "/v1/chat", "/v1/chat/completions/x", "/anthropic", "/anthropicx/v1/messages", "/openai", "/openai/v1", "/openai/v1/",
        "/openai/v1/messages", "/openai/v1/messages/count_tokens", "/openai/v1/health", "/openai/v1/metrics", "/openai/v1/usage",
        "/openai/chat/completions", "/openai/v1/v1/chat/completions", "/healthz", "/ui/x", "//v1/messages",
    ])
    func unknownPaths(_ path: String) {
        #expect(InboundEndpoint(path: path) == nil)
    }

    @Test(arguments: [
        (InboundEndpoint.messages, Call.Endpoint?.some(.messages)), (.countTokens, .countTokens), (.chatCompletions, .chatCompletions),
        (.models, nil), (.model("m"), nil), (.health, nil), (.hello, nil), (.metrics, nil), (.usage, nil), (.usageBudget, nil), (.ui, nil),
    ])
    func onlyTheCallPathsRunThePipeline(_ endpoint: InboundEndpoint, _ call: Call.Endpoint?) {
        #expect(endpoint.callEndpoint == call)
    }

    @Test(arguments: [(Call.Endpoint.messages, "messages"), (.countTokens, "count_tokens"), (.chatCompletions, "chat_completions")])
    func callEndpointsHaveTheirLogNameAndProtocol(_ endpoint: Call.Endpoint, _ name: String) {
        #expect(endpoint.rawValue == name)
        #expect((endpoint.inboundProtocol == .openAI) == (endpoint == .chatCompletions))
    }
}
