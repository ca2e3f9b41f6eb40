import NIOConcurrencyHelpers
import NIOCore
import SwitchyardCore
import SwitchyardTesting
import SwitchyardWire
import Testing

/// The translator between the mapper (which resolves the target and its key) and a scripted
/// upstream: what it sends for each protocol pair, what it gives back, and what it makes of
/// upstream failures.
@Suite struct TranslatorStageTests {
    static let openAIKey = "sk-oai-secret-0123456789"
    static let anthropicKey = "sk-ant-secret-9876543210"

    static let yaml = """
        providers:
          oai: { kind: openai, base_url: "http://127.0.0.1:9/v1", api_key: "\(openAIKey)" }
          ant: { kind: anthropic, base_url: "http://127.0.0.1:9", api_key: "\(anthropicKey)" }
          orr: { kind: openai, dialect: openrouter, base_url: "http://127.0.0.1:9/api/v1", api_key: "sk-or-secret-5555" }
        routes:
          - name: to-openai
            match: { models: ["claude-sonnet-*", "gpt-*"] }
            targets: [ { provider: oai, model: "up/model-a" } ]
          - name: to-anthropic
            match: { models: ["claude-opus-*", "opus-chat"] }
            targets: [ { provider: ant, model: "claude-opus-upstream", max_tokens: 50 } ]
          - name: to-openrouter
            match: { models: ["claude-haiku-*"] }
            targets: [ { provider: orr, model: "vendor/small" } ]
        fallback: { cooldown: 0s }
        """

    static let createdAt: Int64 = 1_700_000_000

    let config: GatewayConfig
    let translator: TranslatorStage

    init() throws {
        config = try StageHarness.config(Self.yaml)
        translator = TranslatorStage(stripBillingHeader: true, secrets: config.upstreamSecrets, wallClock: { Self.createdAt })
    }

    /// Runs mapper → translator → `upstream` for one request; returns the reply and its context.
    func run(
        _ body: String, endpoint: Call.Endpoint = .messages, upstream: RecordingNext
    ) async throws -> (reply: Reply, context: CallContext) {
        let mapper = MapperStage(providers: config.providers, policy: config.fallback, cooldowns: CooldownTable())
        let context = StageHarness.context()
        let translator = self.translator
        let reply = try await mapper.handle(StageHarness.call(body, config: config, endpoint: endpoint), context: context) { call, ctx in
            try await translator.handle(call, context: ctx, next: upstream.next)
        }
        return (reply, context)
    }

    /// Runs a request that must fail, returning the error.
    func failure(_ body: String, endpoint: Call.Endpoint = .messages, upstream: RecordingNext) async -> GatewayError? {
        do {
            _ = try await run(body, endpoint: endpoint, upstream: upstream)
            Issue.record("the request succeeded")
            return nil
        } catch let error as GatewayError {
            return error
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    static func json(_ bytes: [UInt8]) throws -> JSONValue { try JSONParser.parse(bytes) }

    static func bytes(of reply: Reply) -> [UInt8] {
        guard case .bytes(let b) = reply.body else {
            Issue.record("expected a complete body")
            return []
        }
        return b
    }

    /// An upstream reply whose body arrives as a stream of the given chunks.
    static func streamed(_ status: Int, _ chunks: [String], headers: [(String, String)] = []) -> Reply {
        let queue = NIOLockedValueBox(chunks.map { ByteBuffer(string: $0) })
        let stream = ReplyStream(next: {
            queue.withLockedValue { q in q.isEmpty ? nil : q.removeFirst() }
        })
        return Reply(status: status, headers: headers, body: .stream(stream))
    }

    static func drain(_ reply: Reply) async throws -> [UInt8] {
        guard case .stream(let stream) = reply.body else {
            Issue.record("expected a stream")
            return []
        }
        var out: [UInt8] = []
        while let chunk = try await stream.next() { out += chunk.readableBytesView }
        stream.finish(.completed)
        return out
    }

    static func expectJSON(_ actual: [UInt8], equals expected: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let difference = JSONMatcher.difference(expected: try JSONParser.parse(expected), actual: try JSONParser.parse(actual))
        #expect(difference == nil, "\(difference ?? "")", sourceLocation: sourceLocation)
    }

    static let openAICompletion = """
        {"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"hello"},"finish_reason":"stop"}],
         "usage":{"prompt_tokens":12,"completion_tokens":5}}
        """

    static let anthropicMessage = """
        {"id":"msg_01TextOnlyA1b2C3d4E5f6G7h8","type":"message","role":"assistant","model":"claude-opus-upstream",
         "content":[{"type":"text","text":"hello"}],"stop_reason":"end_turn","stop_sequence":null,
         "usage":{"input_tokens":20,"cache_creation_input_tokens":3,"cache_read_input_tokens":7,"output_tokens":9}}
        """

    // MARK: Messages clients

    @Test func messagesToAnOpenAITargetAreTranslatedWithTheRoutedModel() async throws {
        let upstream = RecordingNext { _, _, _ in .json(200, Array(Self.openAICompletion.utf8)) }
        let body = #"{"model":"claude-sonnet-4-5","max_tokens":100,"system":"Be brief.","messages":[{"role":"user","content":"hi"}]}"#
        let (reply, context) = try await run(body, upstream: upstream)

        #expect(upstream.count == 1)
        let sent = try #require(upstream.calls.first?.call.upstream)
        #expect(sent.url == "http://127.0.0.1:9/v1/chat/completions")
        #expect(sent.stream == false)
        try Self.expectJSON(
            sent.body,
            equals: """
                {"model":"up/model-a","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"hi"}],
                 "max_completion_tokens":100}
                """)

        #expect(reply.status == 200)
        try Self.expectJSON(
            Self.bytes(of: reply),
            equals: """
                {"id":"<msg_id>","type":"message","role":"assistant","model":"claude-sonnet-4-5",
                 "content":[{"type":"text","text":"hello"}],"stop_reason":"end_turn","stop_sequence":null,
                 "usage":{"input_tokens":12,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":5}}
                """)
        #expect(context.stats.usage == Usage(inputTokens: 12, outputTokens: 5))
    }

    @Test func anOpenRouterTargetGetsItsDialect() async throws {
        let upstream = RecordingNext { _, _, _ in .json(200, Array(Self.openAICompletion.utf8)) }
        let body = #"{"model":"claude-haiku-4-5","max_tokens":100,"top_k":5,"messages":[{"role":"user","content":"hi"}]}"#
        _ = try await run(body, upstream: upstream)
        let sent = try #require(upstream.calls.first?.call.upstream)
        #expect(sent.url == "http://127.0.0.1:9/api/v1/chat/completions")
        // max_tokens (not max_completion_tokens), top_k kept, and the cost asked for.
        try Self.expectJSON(
            sent.body,
            equals: #"{"model":"vendor/small","messages":[{"role":"user","content":"hi"}],"max_tokens":100,"usage":{"include":true},"top_k":5}"#)
    }

    @Test func messagesToAnAnthropicTargetArePassedThroughWithTheRoutedModelAndCap() async throws {
        let upstream = RecordingNext { _, _, _ in .json(200, Array(Self.anthropicMessage.utf8)) }
        let body = #"{"model":"claude-opus-4-1","max_tokens":1000,"metadata":{"user_id":"u1"},"messages":[{"role":"user","content":"hi"}]}"#
        let (reply, context) = try await run(body, upstream: upstream)

        let sent = try #require(upstream.calls.first?.call.upstream)
        #expect(sent.url == "http://127.0.0.1:9/v1/messages")
        // As sent, with the target's model and its max_tokens clamp (50) — nothing translated.
        try Self.expectJSON(
            sent.body,
            equals: #"{"model":"claude-opus-upstream","max_tokens":50,"metadata":{"user_id":"u1"},"messages":[{"role":"user","content":"hi"}]}"#)
        // The upstream's message is relayed byte for byte.
        #expect(Self.bytes(of: reply) == Array(Self.anthropicMessage.utf8))
        #expect(context.stats.usage == Usage(inputTokens: 20, outputTokens: 9, cacheReadInputTokens: 7, cacheCreationInputTokens: 3))
    }

    @Test func chatCompletionsToAnOpenAITargetArePassedThroughWithTheRoutedModel() async throws {
        let upstream = RecordingNext { _, _, _ in .json(200, Array(Self.openAICompletion.utf8)) }
        let body = #"{"model":"gpt-4o","temperature":0.5,"messages":[{"role":"user","content":"hi"}]}"#
        let (reply, context) = try await run(body, endpoint: .chatCompletions, upstream: upstream)

        let sent = try #require(upstream.calls.first?.call.upstream)
        #expect(sent.url == "http://127.0.0.1:9/v1/chat/completions")
        try Self.expectJSON(sent.body, equals: #"{"model":"up/model-a","temperature":0.5,"messages":[{"role":"user","content":"hi"}]}"#)
        #expect(Self.bytes(of: reply) == Array(Self.openAICompletion.utf8))
        #expect(context.stats.usage == Usage(inputTokens: 12, outputTokens: 5))
    }

    @Test func aStreamedChatCompletionAsksTheOpenAIUpstreamForUsage() async throws {
        let upstream = RecordingNext { _, _, _ in
            Self.streamed(
                200,
                [
                    #"data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}]}"# + "\n\n",
                    #"data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"# + "\n\n",
                    #"data: {"id":"c1","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":8,"completion_tokens":2}}"# + "\n\n",
                    "data: [DONE]\n\n",
                ])
        }
        let body = #"{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]}"#
        let (reply, context) = try await run(body, endpoint: .chatCompletions, upstream: upstream)

        let sent = try #require(upstream.calls.first?.call.upstream)
        #expect(sent.stream)
        try Self.expectJSON(
            sent.body, equals: #"{"model":"up/model-a","stream":true,"messages":[{"role":"user","content":"hi"}],"stream_options":{"include_usage":true}}"#)
        let text = String(decoding: try await Self.drain(reply), as: UTF8.self)
        // The client did not ask for usage: the usage-only chunk is hidden again.
        #expect(!text.contains("prompt_tokens"))
        #expect(text.hasSuffix("data: [DONE]\n\n"))
        #expect(context.stats.usage == Usage(inputTokens: 8, outputTokens: 2))
    }

    @Test func chatCompletionsToAnAnthropicTargetAreTranslatedBothWays() async throws {
        let upstream = RecordingNext { _, _, _ in .json(200, Array(Self.anthropicMessage.utf8)) }
        let body = #"{"model":"opus-chat","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"hi"}]}"#
        let (reply, context) = try await run(body, endpoint: .chatCompletions, upstream: upstream)

        let sent = try #require(upstream.calls.first?.call.upstream)
        #expect(sent.url == "http://127.0.0.1:9/v1/messages")
        // No max given: 4096, clamped by the target's max_tokens (50).
        try Self.expectJSON(
            sent.body,
            equals: """
                {"model":"claude-opus-upstream","max_tokens":50,"system":[{"type":"text","text":"Be brief."}],
                 "messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}]}
                """)
        try Self.expectJSON(
            Self.bytes(of: reply),
            equals: """
                {"id":"chatcmpl-msg_01TextOnlyA1b2C3d4E5f6G7h8","object":"chat.completion","created":1700000000,"model":"opus-chat",
                 "choices":[{"index":0,"message":{"role":"assistant","content":"hello","refusal":null},"logprobs":null,"finish_reason":"stop"}],
                 "usage":{"prompt_tokens":30,"completion_tokens":9,"total_tokens":39,
                          "prompt_tokens_details":{"cached_tokens":7,"cache_write_tokens":3}}}
                """)
        #expect(context.stats.usage == Usage(inputTokens: 20, outputTokens: 9, cacheReadInputTokens: 7, cacheCreationInputTokens: 3))
    }

    @Test func anOpenAIAnswerWithoutUsageIsEstimatedAndMarkedSo() async throws {
        let upstream = RecordingNext { _, _, _ in
            .json(200, Array(#"{"choices":[{"index":0,"message":{"role":"assistant","content":"12345678"},"finish_reason":"stop"}]}"#.utf8))
        }
        let body = #"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}"#
        let (_, context) = try await run(body, endpoint: .chatCompletions, upstream: upstream)
        let usage = try #require(context.stats.usage)
        #expect(usage.estimated)
        #expect(usage.outputTokens == 2)  // 8 bytes of text, about 4 bytes a token
        #expect(usage.inputTokens == (body.utf8.count + 3) / 4)
    }

    // MARK: Upstream failures

    struct StatusCase: Sendable, CustomTestStringConvertible {
        var upstream: Int
        var gateway: Int
        var type: AnthropicErrorType
        var testDescription: String { "\(upstream) → \(gateway) \(type.rawValue)" }
    }

    static let statusCases: [StatusCase] = [
        StatusCase(upstream: 400, gateway: 400, type: .invalidRequest),
        StatusCase(upstream: 401, gateway: 500, type: .api),
        StatusCase(upstream: 402, gateway: 402, type: .billing),
        StatusCase(upstream: 403, gateway: 403, type: .permission),
        StatusCase(upstream: 404, gateway: 502, type: .api),
        StatusCase(upstream: 409, gateway: 409, type: .invalidRequest),
        StatusCase(upstream: 413, gateway: 413, type: .requestTooLarge),
        StatusCase(upstream: 429, gateway: 429, type: .rateLimit),
        StatusCase(upstream: 500, gateway: 500, type: .api),
        StatusCase(upstream: 502, gateway: 529, type: .overloaded),
        StatusCase(upstream: 503, gateway: 529, type: .overloaded),
        StatusCase(upstream: 504, gateway: 504, type: .timeout),
    ]

    @Test(arguments: statusCases) func aNon2xxUpstreamAnswerBecomesAGatewayError(_ c: StatusCase) async throws {
        let upstream = RecordingNext { _, _, _ in .json(c.upstream, Array(#"{"error":{"message":"nope"}}"#.utf8)) }
        let error = try #require(await failure(StageFixtures.body(), upstream: upstream))
        #expect(error.status == c.gateway)
        #expect(error.type == c.type)
        #expect(error.upstreamFailure?.upstreamStatus == c.upstream)
        #expect(error.message == "[oai:up/model-a] nope")
    }

    @Test func anAnthropicUpstreamErrorKeepsItsStatusForChatClients() async throws {
        let upstream = RecordingNext { _, _, _ in
            .json(429, Array(#"{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}"#.utf8), headers: [("retry-after", "7")])
        }
        let body = #"{"model":"opus-chat","messages":[{"role":"user","content":"hi"}]}"#
        let error = try #require(await failure(body, endpoint: .chatCompletions, upstream: upstream))
        #expect(error.status == 429)
        #expect(error.message == "[ant:claude-opus-upstream] slow down")
        #expect(error.rendered.headers.contains { $0 == ("retry-after", "7") })
    }

    @Test func anErrorInsideA200IsAnUpstreamFailure() async throws {
        let upstream = RecordingNext { _, _, _ in .json(200, Array(#"{"error":{"message":"provider overloaded","code":502}}"#.utf8)) }
        let error = try #require(await failure(StageFixtures.body(), upstream: upstream))
        #expect(error.status == 529)
        #expect(error.type == .overloaded)
        #expect(error.message.contains("provider overloaded"))
    }

    @Test func theUpstreamKeyInAnErrorBodyIsBlanked() async throws {
        let upstream = RecordingNext { _, _, _ in
            .json(401, Array(#"{"error":{"message":"Incorrect API key provided: \#(Self.openAIKey). Check it."}}"#.utf8))
        }
        let error = try #require(await failure(StageFixtures.body(), upstream: upstream))
        #expect(!error.message.contains(Self.openAIKey))
        #expect(!error.description.contains(Self.openAIKey))
        #expect(error.message == "[oai:up/model-a] Incorrect API key provided: ***. Check it.")
    }

    @Test func aKeyCutByTheQuotingLimitLeavesNoPrefix() async throws {
        // A non-JSON body is quoted up to 300 bytes; the key starts at byte 298, across that cut
        // (and across the two chunks the body arrives in).
        let body = String(repeating: "x", count: 298) + Self.openAIKey + " tail"
        let upstream = RecordingNext { _, _, _ in Self.streamed(500, [String(body.prefix(300)), String(body.dropFirst(300))]) }
        let error = try #require(await failure(StageFixtures.body(), upstream: upstream))
        #expect(error.status == 500)
        #expect(!error.message.contains("sk"))
        #expect(error.message.hasPrefix("[oai:up/model-a] upstream returned a non-JSON error body: xxx"))
        #expect(error.message.hasSuffix("x**"))
    }

    @Test func aKeySplitAcrossStreamedErrorChunksIsBlanked() async throws {
        let message = #"{"error":{"message":"bad key \#(Self.anthropicKey)"}}"#
        let cut = message.count - 12  // inside the key
        let upstream = RecordingNext { _, _, _ in Self.streamed(403, [String(message.prefix(cut)), String(message.dropFirst(cut))]) }
        let body = #"{"model":"claude-opus-4-1","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}"#
        let error = try #require(await failure(body, upstream: upstream))
        #expect(error.status == 403)
        #expect(error.message == "[ant:claude-opus-upstream] bad key ***")
    }

    @Test func aKeyQuotedInATransportErrorIsBlanked() async throws {
        let upstream = RecordingNext { _, _, _ in
            throw GatewayError.upstream(UpstreamFailure(kind: .connectError, message: "refused for \(Self.openAIKey)"), target: "oai:up/model-a")
        }
        let error = try #require(await failure(StageFixtures.body(), upstream: upstream))
        #expect(error.status == 529)
        #expect(!error.message.contains(Self.openAIKey))
        #expect(error.message.hasSuffix("refused for ***"))
    }

    @Test func aSecretInASuccessfulBodyIsBlankedToo() async throws {
        let leaky = Self.anthropicMessage.replacingOccurrences(of: #""text":"hello""#, with: #""text":"key=\#(Self.anthropicKey)""#)
        let upstream = RecordingNext { _, _, _ in .json(200, Array(leaky.utf8)) }
        let body = #"{"model":"claude-opus-4-1","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}"#
        let (reply, _) = try await run(body, upstream: upstream)
        let text = String(decoding: Self.bytes(of: reply), as: UTF8.self)
        #expect(!text.contains(Self.anthropicKey))
        #expect(text.contains(#""text":"key=***""#))
    }
}
