import Foundation
import SwitchyardCore
import SwitchyardTesting
import SwitchyardWire
import Testing

/// The logger stage writing to a temporary access-log file: one line per request with its
/// fields, errors in the envelope of the caller's protocol, and verbose bodies redacted.
@Suite final class AccessLogStageTests {
    static let upstreamSecret = "sk-upstream-secret-XYZ123"

    let config: GatewayConfig
    let path: String
    let metrics = Metrics()

    init() throws {
        config = try StageFixtures.config()
        path = FileManager.default.temporaryDirectory.appendingPathComponent("sy-access-\(UUID().uuidString).log").path
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    func stage(format: LoggingSettings.Format = .json, verbose: Bool = false) throws -> AccessLogStage {
        AccessLogStage(sink: try AccessLogSink(destination: path), format: format, verbose: verbose, metrics: metrics, secrets: [Self.upstreamSecret])
    }

    /// The lines written so far.
    func lines() throws -> [String] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
    }

    /// The one line written, parsed.
    func onlyLine(sourceLocation: SourceLocation = #_sourceLocation) throws -> JSONValue {
        let all = try lines()
        #expect(all.count == 1, "\(all)", sourceLocation: sourceLocation)
        return try JSONParser.parse(try #require(all.first, sourceLocation: sourceLocation))
    }

    static func body(of reply: Reply) throws -> JSONValue {
        guard case .bytes(let b) = reply.body else {
            Issue.record("expected a complete body")
            return .null
        }
        return try JSONParser.parse(b)
    }

    @Test func oneLinePerRequestWithItsFields() async throws {
        let stage = try stage()
        let next = RecordingNext { _, context, _ in
            context.stats.user = "alice"
            context.stats.target = "up:a"
            context.stats.recordAttempt("up:a 200")
            context.stats.usage = Usage(inputTokens: 12, outputTokens: 5, cacheReadInputTokens: 3)
            return .json(200, Array("{}".utf8))
        }
        let context = StageHarness.context()
        let reply = try await stage.handle(StageHarness.call(StageFixtures.body(), config: config), context: context, next: next.next)
        #expect(reply.status == 200)
        let line = try onlyLine()
        #expect(line["request_id"]?.stringValue == context.requestID)
        #expect(line["endpoint"]?.stringValue == "messages")
        #expect(line["user"]?.stringValue == "alice")
        #expect(line["route"]?.stringValue == "main")
        #expect(line["model"]?.stringValue == "claude-sonnet-4-5")
        #expect(line["target"]?.stringValue == "up:a")
        #expect(line["attempts"] == .array([.string("up:a 200")]))
        #expect(line["stream"] == .bool(false))
        #expect(line["status"]?.intValue == 200)
        #expect(line["error_type"]?.isNull == true)
        #expect(line["input_tokens"]?.intValue == 15)  // cached tokens count as input
        #expect(line["output_tokens"]?.intValue == 5)
        #expect(line["request_body"] == nil)
        #expect(line["time"]?.stringValue?.hasSuffix("Z") == true)
    }

    @Test(arguments: [
        (Call.Endpoint.messages, "messages"), (.countTokens, "count_tokens"), (.chatCompletions, "chat_completions"),
    ])
    func theEndpointIsNamed(_ endpoint: Call.Endpoint, _ name: String) async throws {
        let stage = try stage()
        let body = #"{"model":"claude-haiku-4-5","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}"#
        _ = try await stage.handle(StageHarness.call(body, config: config, endpoint: endpoint), context: StageHarness.context(), next: RecordingNext().next)
        let line = try onlyLine()
        #expect(line["endpoint"]?.stringValue == name)
        #expect(line["route"]?.stringValue == "cheap")
    }

    @Test func theRequestedModelIsCutTo200Characters() async throws {
        let stage = try stage()
        let model = "claude-" + String(repeating: "m", count: 300)
        _ = try await stage.handle(
            StageHarness.call(StageFixtures.body(model: model), config: config), context: StageHarness.context(), next: RecordingNext().next)
        #expect(try onlyLine()["model"]?.stringValue == String(model.prefix(200)))
    }

    @Test func anAnthropicCallersErrorIsTheAnthropicEnvelope() async throws {
        let stage = try stage()
        let next = RecordingNext { _, _, _ in throw GatewayError.rateLimited("too many", retryAfterSeconds: 12, headers: []) }
        let context = StageHarness.context()
        let reply = try await stage.handle(StageHarness.call(StageFixtures.body(), config: config), context: context, next: next.next)
        #expect(reply.status == 429)
        #expect(reply.header("retry-after") == "12")
        let expected: JSONValue = .object([
            "type": .string("error"), "error": .object(["type": .string("rate_limit_error"), "message": .string("too many")]),
            "request_id": .string(context.requestID),
        ])
        #expect(JSONMatcher.difference(expected: expected, actual: try Self.body(of: reply)) == nil)
        let line = try onlyLine()
        #expect(line["status"]?.intValue == 429)
        #expect(line["error_type"]?.stringValue == "rate_limit_error")
    }

    struct EnvelopeCase: Sendable, CustomTestStringConvertible {
        var error: GatewayError
        var status: Int
        var type: String
        var code: String?
        var testDescription: String { "\(error.status) → \(status) \(type)" }
    }

    static let openAICases: [EnvelopeCase] = [
        EnvelopeCase(error: .overloaded("busy"), status: 503, type: "server_error", code: "overloaded"),
        EnvelopeCase(error: .invalidRequest("messages: field required"), status: 400, type: "invalid_request_error", code: nil),
        EnvelopeCase(error: .unauthenticated("no token"), status: 401, type: "authentication_error", code: "invalid_api_key"),
        EnvelopeCase(error: .modelNotServed("nope"), status: 404, type: "not_found_error", code: "model_not_found"),
        EnvelopeCase(error: .budgetExceeded("spent"), status: 402, type: "insufficient_quota", code: "insufficient_quota"),
        EnvelopeCase(
            error: .upstream(UpstreamFailure(kind: .serverError, upstreamStatus: 503, message: "down"), target: "up:a"),
            status: 503, type: "server_error", code: "overloaded"),
        EnvelopeCase(
            error: .upstream(UpstreamFailure(kind: .contextLength, upstreamStatus: 400, message: "prompt is too long: 9 tokens > 8 maximum"), target: "up:a"),
            status: 400, type: "invalid_request_error", code: "context_length_exceeded"),
    ]

    @Test(arguments: openAICases) func aChatCallersErrorIsTheOpenAIEnvelope(_ c: EnvelopeCase) async throws {
        let stage = try stage()
        let next = RecordingNext { _, _, _ in throw c.error }
        let body = #"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}"#
        let reply = try await stage.handle(
            StageHarness.call(body, config: config, endpoint: .chatCompletions), context: StageHarness.context(), next: next.next)
        #expect(reply.status == c.status)
        let expected: JSONValue = .object([
            "error": .object([
                "message": .string(c.error.message), "type": .string(c.type), "param": .null, "code": c.code.map { .string($0) } ?? .null,
            ])
        ])
        #expect(JSONMatcher.difference(expected: expected, actual: try Self.body(of: reply)) == nil)
        let line = try onlyLine()
        // The line has the status the client got, and the gateway's own error type.
        #expect(line["status"]?.intValue == Int64(c.status))
        #expect(line["error_type"]?.stringValue == c.error.type.rawValue)
        #expect(line["endpoint"]?.stringValue == "chat_completions")
    }

    @Test func verboseBodiesHaveTheCallersTokenAndUpstreamSecretsBlanked() async throws {
        let stage = try stage(verbose: true)
        let clientToken = StageFixtures.bobToken
        let next = RecordingNext { _, _, _ in .json(200, Array(#"{"echo":"\#(Self.upstreamSecret) and \#(clientToken)"}"#.utf8)) }
        let body = StageFixtures.body(text: "my key is \(Self.upstreamSecret), token \(clientToken)")
        _ = try await stage.handle(
            StageHarness.call(body, config: config, credential: clientToken), context: StageHarness.context(), next: next.next)
        let line = try onlyLine()
        let request = try #require(line["request_body"]?.stringValue)
        let response = try #require(line["response_body"]?.stringValue)
        #expect(request.contains("my key is ***, token ***"))
        #expect(response == #"{"echo":"*** and ***"}"#)
        let raw = try lines().joined()
        #expect(!raw.contains(Self.upstreamSecret))
        #expect(!raw.contains(clientToken))
    }

    @Test func aVerboseBodyIsRedactedBeforeItIsCut() async throws {
        let stage = try stage(verbose: true)
        // The secret starts 2 bytes before the 4096-byte cut: cut first, "sk" would survive.
        let padding = String(repeating: "x", count: 4094)
        let next = RecordingNext { _, _, _ in .json(200, Array((padding + Self.upstreamSecret + "tail").utf8)) }
        _ = try await stage.handle(StageHarness.call(StageFixtures.body(), config: config), context: StageHarness.context(), next: next.next)
        let response = try #require(try onlyLine()["response_body"]?.stringValue)
        // The cut backs off out of the mask instead of splitting it.
        #expect(response == padding)
    }

    @Test func aRefusedRequestLogsNoBodies() async throws {
        let stage = try stage(verbose: true)
        let next = RecordingNext { _, _, _ in throw GatewayError.unauthenticated("missing token") }
        _ = try await stage.handle(StageHarness.call(StageFixtures.body(), config: config), context: StageHarness.context(), next: next.next)
        let line = try onlyLine()
        #expect(line["status"]?.intValue == 401)
        #expect(line["error_type"]?.stringValue == "authentication_error")
        #expect(line["request_body"] == nil)
        #expect(line["response_body"] == nil)
    }

    @Test func aStreamIsLoggedOnceWhenItEnds() async throws {
        let stage = try stage()
        let next = RecordingNext { _, context, _ in
            context.stats.usage = Usage(inputTokens: 4, outputTokens: 2)
            return Reply(status: 200, headers: [], body: .stream(ReplyStream(next: { nil })))
        }
        let reply = try await stage.handle(
            StageHarness.call(StageFixtures.body(stream: true), config: config), context: StageHarness.context(), next: next.next)
        #expect(try lines().isEmpty)
        guard case .stream(let stream) = reply.body else {
            Issue.record("expected a stream")
            return
        }
        stream.finish(.completed)
        stream.finish(.abandoned)  // ignored: the end is reported once
        let line = try onlyLine()
        #expect(line["stream"] == .bool(true))
        #expect(line["output_tokens"]?.intValue == 2)
    }

    @Test func aClientThatLeftIsLoggedAs499AndTheCancellationGoesOn() async throws {
        let stage = try stage()
        let next = RecordingNext { _, _, _ in throw CancellationError() }
        await #expect(throws: CancellationError.self) {
            _ = try await stage.handle(StageHarness.call(StageFixtures.body(), config: config), context: StageHarness.context(), next: next.next)
        }
        let line = try onlyLine()
        #expect(line["status"]?.intValue == 499)
        #expect(line["error_type"]?.stringValue == "client_disconnected")
        #expect(line["overhead_ms"]?.isNull == true)
    }

    @Test func theTextFormatIsKeyEqualsValue() async throws {
        let stage = try stage(format: .text)
        _ = try await stage.handle(StageHarness.call(StageFixtures.body(), config: config), context: StageHarness.context(), next: RecordingNext().next)
        let all = try lines()
        #expect(all.count == 1)
        let line = try #require(all.first)
        #expect(line.contains(#" endpoint="messages" "#))
        #expect(line.contains(#" route="main" "#))
        #expect(line.contains(" status=200 "))
        #expect(line.contains(" user=null "))
    }

    @Test func requestsAreCountedByEndpointButCountTokensIsNot() async throws {
        let stage = try stage()
        let chat = #"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}"#
        _ = try await stage.handle(
            StageHarness.call(chat, config: config, endpoint: .chatCompletions), context: StageHarness.context(), next: RecordingNext().next)
        _ = try await stage.handle(
            StageHarness.call(chat, config: config, endpoint: .countTokens), context: StageHarness.context(), next: RecordingNext().next)
        let text = String(decoding: metrics.render(), as: UTF8.self)
        let counted = text.split(separator: "\n").filter { $0.hasPrefix("switchyard_requests_total{") }
        #expect(counted == [#"switchyard_requests_total{route="main",target="",status="200",endpoint="chat_completions"} 1"#])
        #expect(try lines().count == 2)
    }
}
