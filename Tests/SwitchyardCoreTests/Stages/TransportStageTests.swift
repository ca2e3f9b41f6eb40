import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import SwitchyardCore
import SwitchyardTesting
import SwitchyardWire
import Testing

/// A local HTTP/1.1 server on 127.0.0.1 that records every request and answers each with the
/// same scripted response: the transport's real client talks to it.
final class RecordingHTTPServer: Sendable {
    struct Request: Sendable {
        var method: String
        var uri: String
        var headers: [(String, String)]
        var body: [UInt8]

        /// Every value of a header (names compared case-insensitively).
        func values(_ name: String) -> [String] {
            headers.filter { $0.0.lowercased() == name.lowercased() }.map(\.1)
        }
    }

    struct Answer: Sendable {
        var status: Int
        var headers: [(String, String)] = [("content-type", "application/json")]
        var body: String
    }

    let channel: any Channel
    let requests: NIOLockedValueBox<[Request]>

    var port: Int { channel.localAddress?.port ?? 0 }
    var seen: [Request] { requests.withLockedValue { $0 } }

    private init(channel: any Channel, requests: NIOLockedValueBox<[Request]>) {
        self.channel = channel
        self.requests = requests
    }

    static func start(_ answer: Answer) async throws -> RecordingHTTPServer {
        let requests = NIOLockedValueBox<[Request]>([])
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(answer: answer, requests: requests))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return RecordingHTTPServer(channel: channel, requests: requests)
    }

    func stop() async throws {
        try await channel.close()
    }

    final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let answer: Answer
        let requests: NIOLockedValueBox<[Request]>
        var head: HTTPRequestHead?
        var body: [UInt8] = []

        init(answer: Answer, requests: NIOLockedValueBox<[Request]>) {
            self.answer = answer
            self.requests = requests
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let h):
                head = h
                body = []
            case .body(let buffer):
                body += buffer.readableBytesView
            case .end:
                guard let head else { return }
                let request = Request(method: head.method.rawValue, uri: head.uri, headers: head.headers.map { ($0.name, $0.value) }, body: body)
                requests.withLockedValue { $0.append(request) }
                var headers = HTTPHeaders(answer.headers)
                headers.add(name: "content-length", value: String(answer.body.utf8.count))
                let responseHead = HTTPResponseHead(version: head.version, status: HTTPResponseStatus(statusCode: answer.status), headers: headers)
                context.write(wrapOutboundOut(.head(responseHead)), promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: answer.body)))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }
    }
}

/// The transport stage against a local server: the headers it sets per provider kind, the key it
/// sends, and what it returns. (The header building is inline in `handle`, so there is no pure
/// part to test without a server.)
@Suite struct TransportStageTests {
    static let clientCredential = "sy-client-credential-1"

    static let openAIAnswer = RecordingHTTPServer.Answer(
        status: 200,
        body:
            #"{"choices":[{"index":0,"message":{"role":"assistant","content":"hello"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1}}"#
    )

    static let anthropicAnswer = RecordingHTTPServer.Answer(
        status: 200,
        body:
            #"{"id":"msg_1","type":"message","role":"assistant","content":[{"type":"text","text":"hello"}],"stop_reason":"end_turn","usage":{"input_tokens":3,"output_tokens":1}}"#
    )

    /// `providers:` for a server on `port`; every route goes to the provider named `use`.
    static func yaml(port: Int, provider: String, targetKey: String? = nil) -> String {
        let key = targetKey.map { ", api_key: \"\($0)\"" } ?? ""
        return """
            providers:
              oai:
                kind: openai
                base_url: "http://127.0.0.1:\(port)/v1"
                api_key: "sk-oai-key-1234"
                headers: { X-Title: Switchyard, HTTP-Referer: "https://example.test" }
              ant: { kind: anthropic, base_url: "http://127.0.0.1:\(port)", api_key: "sk-ant-key-5678" }
              orant: { kind: anthropic, dialect: openrouter, base_url: "http://127.0.0.1:\(port)/api", api_key: "sk-or-key-9012" }
              local: { kind: openai, base_url: "http://127.0.0.1:\(port)/v1" }
            routes:
              - name: all
                match: { models: ["*"] }
                targets: [ { provider: \(provider), model: "up/model"\(key) } ]
            fallback: { cooldown: 0s }
            """
    }

    /// Sends one request through mapper → translator → transport to a fresh local server.
    static func send(
        provider: String, answer: RecordingHTTPServer.Answer, targetKey: String? = nil, endpoint: Call.Endpoint = .messages,
        body: String = StageFixtures.body(), anthropicBeta: String? = nil, anthropicVersion: String? = nil
    ) async throws -> (result: Result<Reply, GatewayError>, requests: [RecordingHTTPServer.Request], context: CallContext) {
        let server = try await RecordingHTTPServer.start(answer)
        let clients = HTTPClients()
        let context = StageHarness.context()
        let result: Result<Reply, GatewayError>
        do {
            let config = try StageHarness.config(yaml(port: server.port, provider: provider, targetKey: targetKey))
            let bytes = Array(body.utf8)
            let call = bytes.withUnsafeBytes { raw in
                CallSetup.call(
                    body: raw, endpoint: endpoint, credential: Secret(clientCredential), authOutcome: nil, router: RouteMatcher(routes: config.routes),
                    authenticator: Authenticator(mode: config.auth, users: config.users), anthropicBeta: anthropicBeta, anthropicVersion: anthropicVersion)
            }
            let pipeline = Pipeline(stages: [
                MapperStage(providers: config.providers, policy: config.fallback, cooldowns: CooldownTable()),
                TranslatorStage(stripBillingHeader: true, secrets: config.upstreamSecrets),
                TransportStage(clients: clients),
            ])
            do {
                result = .success(try await pipeline.handle(call, context: context))
            } catch let error as GatewayError {
                result = .failure(error)
            }
        } catch {
            await clients.shutdown()
            try await server.stop()
            throw error
        }
        await clients.shutdown()
        try await server.stop()
        return (result, server.seen, context)
    }

    static func reply(_ result: Result<Reply, GatewayError>, sourceLocation: SourceLocation = #_sourceLocation) -> Reply? {
        switch result {
        case .success(let reply): return reply
        case .failure(let error):
            Issue.record("failed: \(error)", sourceLocation: sourceLocation)
            return nil
        }
    }

    @Test func anOpenAIProviderGetsABearerKeyAndItsHeaders() async throws {
        let (result, requests, context) = try await Self.send(provider: "oai", answer: Self.openAIAnswer, anthropicBeta: "tools-2024")
        #expect(Self.reply(result)?.status == 200)
        #expect(requests.count == 1)
        let request = try #require(requests.first)
        #expect(request.method == "POST")
        #expect(request.uri == "/v1/chat/completions")
        #expect(request.values("authorization") == ["Bearer sk-oai-key-1234"])
        #expect(request.values("x-api-key") == [])
        #expect(request.values("anthropic-version") == [])
        #expect(request.values("anthropic-beta") == [])
        #expect(request.values("content-type") == ["application/json"])
        #expect(request.values("accept") == ["application/json"])
        #expect(request.values("user-agent") == ["switchyard/1.0"])
        #expect(request.values("X-Title") == ["Switchyard"])
        #expect(request.values("HTTP-Referer") == ["https://example.test"])
        // The client's credential never leaves the gateway.
        #expect(!request.headers.contains { $0.1.contains(Self.clientCredential) })
        #expect(try JSONParser.parse(request.body)["model"]?.stringValue == "up/model")
        #expect(context.stats.usage == Usage(inputTokens: 3, outputTokens: 1))
        #expect(context.stats.upstreamNanos > 0)
    }

    @Test func anAnthropicProviderGetsXAPIKeyAndTheDefaultVersion() async throws {
        let (result, requests, _) = try await Self.send(provider: "ant", answer: Self.anthropicAnswer)
        #expect(Self.reply(result)?.status == 200)
        let request = try #require(requests.first)
        #expect(request.uri == "/v1/messages")
        #expect(request.values("x-api-key") == ["sk-ant-key-5678"])
        #expect(request.values("authorization") == [])
        #expect(request.values("anthropic-version") == ["2023-06-01"])
        #expect(request.values("anthropic-beta") == [])
        #expect(request.values("X-Title") == [])  // another provider's headers
        #expect(!request.headers.contains { $0.1.contains(Self.clientCredential) })
    }

    @Test func anAnthropicProviderGetsTheClientsVersionAndBeta() async throws {
        let (_, requests, _) = try await Self.send(
            provider: "ant", answer: Self.anthropicAnswer, anthropicBeta: "interleaved-thinking-2025-05-14", anthropicVersion: "2024-01-01")
        let request = try #require(requests.first)
        #expect(request.values("anthropic-version") == ["2024-01-01"])
        #expect(request.values("anthropic-beta") == ["interleaved-thinking-2025-05-14"])
    }

    @Test func openRoutersMessagesEndpointGetsABearerKey() async throws {
        let (_, requests, _) = try await Self.send(provider: "orant", answer: Self.anthropicAnswer)
        let request = try #require(requests.first)
        #expect(request.uri == "/api/v1/messages")
        #expect(request.values("authorization") == ["Bearer sk-or-key-9012"])
        #expect(request.values("x-api-key") == [])
        #expect(request.values("anthropic-version") == ["2023-06-01"])
    }

    @Test func aTargetKeyWinsOverTheProviderKey() async throws {
        let (_, requests, _) = try await Self.send(provider: "oai", answer: Self.openAIAnswer, targetKey: "sk-target-key-777")
        #expect(requests.first?.values("authorization") == ["Bearer sk-target-key-777"])
    }

    @Test func aKeylessProviderGetsNoCredentialAtAll() async throws {
        let (result, requests, _) = try await Self.send(provider: "local", answer: Self.openAIAnswer)
        #expect(Self.reply(result)?.status == 200)
        let request = try #require(requests.first)
        #expect(request.values("authorization") == [])
        #expect(request.values("x-api-key") == [])
    }

    @Test func aStreamAsksForEventStream() async throws {
        let sse = RecordingHTTPServer.Answer(
            status: 200, headers: [("content-type", "text/event-stream")],
            body: "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":3}}}\n\n"
                + "event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":2}}\n\n"
                + "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n")
        let (result, requests, context) = try await Self.send(provider: "ant", answer: sse, body: StageFixtures.body(stream: true))
        #expect(requests.first?.values("accept") == ["text/event-stream"])
        guard case .stream(let stream)? = Self.reply(result)?.body else {
            Issue.record("expected a stream")
            return
        }
        var out: [UInt8] = []
        while let chunk = try await stream.next() { out += chunk.readableBytesView }
        stream.finish(.completed)
        #expect(SSEEvents.parse(out).compactMap { $0["event"]?.stringValue } == ["message_start", "message_delta", "message_stop"])
        #expect(context.stats.usage == Usage(inputTokens: 3, outputTokens: 2))
    }

    @Test(.timeLimit(.minutes(1))) func aTranslatedStreamIsDeliveredByCallbackToItsEnd() async throws {
        let chunk = { (delta: String) in
            "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":\(delta)}]}\n\n"
        }
        let sse = RecordingHTTPServer.Answer(
            status: 200, headers: [("content-type", "text/event-stream")],
            body: chunk(#"{"role":"assistant","content":"hel"}"#) + chunk(#"{"content":"lo"}"#)
                + "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2}}\n\n"
                + "data: [DONE]\n\n")
        let (result, _, context) = try await Self.send(provider: "oai", answer: sse, body: StageFixtures.body(stream: true))
        guard case .stream(let stream)? = Self.reply(result)?.body else {
            Issue.record("expected a stream")
            return
        }
        let loop = MultiThreadedEventLoopGroup.singleton.any()
        let consumer = RecordingConsumer(loop: loop)
        stream.deliver(to: consumer)
        try await consumer.ended.futureResult.get()
        stream.finish(.completed)
        let events = SSEEvents.parse(Array(consumer.text.utf8))
        #expect(events.first?["event"]?.stringValue == "message_start")
        #expect(events.last?["event"]?.stringValue == "message_stop")
        let text = events.compactMap { $0["data"]?["delta"]?["text"]?.stringValue }.joined()
        #expect(text == "hello")
        #expect(consumer.endings == 1)
        #expect(context.stats.usage?.outputTokens == 2)
    }

    @Test func anUpstreamErrorKeepsItsStatusAndRetryAfter() async throws {
        let answer = RecordingHTTPServer.Answer(
            status: 429, headers: [("content-type", "application/json"), ("retry-after", "3")], body: #"{"error":{"message":"slow down"}}"#)
        let (result, _, _) = try await Self.send(provider: "oai", answer: answer)
        guard case .failure(let error) = result else {
            Issue.record("succeeded")
            return
        }
        #expect(error.status == 429)
        #expect(error.message == "[oai:up/model] slow down")
        #expect(error.rendered.headers.contains { $0 == ("retry-after", "3") })
    }

    @Test func aRefusedConnectionIsAConnectError() async throws {
        // A port that was just free: nothing listens there.
        let probe = try await RecordingHTTPServer.start(Self.openAIAnswer)
        let port = probe.port
        try await probe.stop()
        let clients = HTTPClients()
        // The client retries a refused connect until its connect timeout: keep that short.
        let yaml = Self.yaml(port: port, provider: "oai").replacingOccurrences(
            of: "api_key: \"sk-oai-key-1234\"", with: "api_key: \"sk-oai-key-1234\"\n    timeouts: { connect: 100ms }")
        let config = try StageHarness.config(yaml)
        #expect(config.providers[0].timeouts.connect == .milliseconds(100))
        let pipeline = Pipeline(stages: [
            MapperStage(providers: config.providers, policy: config.fallback, cooldowns: CooldownTable()),
            TranslatorStage(stripBillingHeader: true, secrets: config.upstreamSecrets),
            TransportStage(clients: clients),
        ])
        var failure: GatewayError?
        do {
            _ = try await pipeline.handle(StageHarness.call(StageFixtures.body(), config: config), context: StageHarness.context())
        } catch let error as GatewayError {
            failure = error
        }
        await clients.shutdown()
        let error = try #require(failure)
        #expect(error.status == 529)
        #expect(error.type == .overloaded)
        #expect(error.upstreamFailure?.kind == .connectError)
        #expect(!error.message.contains("sk-oai-key-1234"))
    }

    @Test func withoutAnUpstreamRequestTheTransportRefuses() async throws {
        let clients = HTTPClients()
        let stage = TransportStage(clients: clients)
        let config = try StageFixtures.config()
        await #expect(throws: GatewayError.self) {
            _ = try await stage.handle(StageHarness.call(StageFixtures.body(), config: config), context: StageHarness.context(), next: RecordingNext().next)
        }
        await clients.shutdown()
    }
}
