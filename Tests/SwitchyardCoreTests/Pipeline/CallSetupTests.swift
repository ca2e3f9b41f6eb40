import SwitchyardCore
import SwitchyardTesting
import SwitchyardWire
import Testing

/// What the server makes of a request body before the pipeline: the decode per endpoint, the
/// redaction of a token sent as the model name, the estimate and the route.
@Suite struct CallSetupTests {
    let config: GatewayConfig

    init() throws {
        config = try StageFixtures.config()
    }

    func call(_ body: String, endpoint: Call.Endpoint = .messages, credential: String? = nil) -> Call {
        let bytes = Array(body.utf8)
        return bytes.withUnsafeBytes { raw in
            CallSetup.call(
                body: raw, endpoint: endpoint, credential: credential.map(Secret.init), authOutcome: nil,
                router: RouteMatcher(routes: config.routes), authenticator: Authenticator(mode: config.auth, users: config.users),
                anthropicBeta: "beta-1", anthropicVersion: "2023-06-01")
        }
    }

    func failure(_ call: Call, sourceLocation: SourceLocation = #_sourceLocation) -> GatewayError? {
        guard case .failure(let error) = call.decoded else {
            Issue.record("decoded without error", sourceLocation: sourceLocation)
            return nil
        }
        return error
    }

    @Test func aMessagesBodyDecodesAsMessages() throws {
        let body = #"{"model":"claude-haiku-4-5","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"hi"}]}"#
        let c = call(body)
        let request = try c.parsed()
        guard case .messages(let messages) = request else {
            Issue.record("not a Messages request")
            return
        }
        #expect(messages.model == "claude-haiku-4-5")
        #expect(request.maxTokens == 64)
        #expect(request.stream)
        #expect(c.endpoint == .messages)
        #expect(c.bodyBytes == body.utf8.count)
        #expect(c.route?.name == "cheap")
        #expect(c.anthropicBeta == "beta-1")
        #expect(c.anthropicVersion == "2023-06-01")
        #expect(c.authOutcome == nil)
    }

    @Test func countTokensNeedsNoMaxTokensButMessagesDoes() throws {
        let body = #"{"model":"claude-haiku-4-5","messages":[{"role":"user","content":"hi"}]}"#
        let counted = try call(body, endpoint: .countTokens).parsed()
        #expect(counted.messagesRequest?.model == "claude-haiku-4-5")
        #expect(counted.maxTokens == nil)
        let error = try #require(failure(call(body, endpoint: .messages)))
        #expect(error.status == 400)
        #expect(error.type == .invalidRequest)
        #expect(error.message == "max_tokens: field required")
    }

    @Test func aChatBodyDecodesAsChat() throws {
        let body =
            #"{"model":"gpt-4o","max_completion_tokens":32,"max_tokens":99,"messages":[{"role":"developer","content":"x"},{"role":"user","content":"hi"}]}"#
        let c = call(body, endpoint: .chatCompletions)
        guard case .chat(let chat) = try c.parsed() else {
            Issue.record("not a Chat request")
            return
        }
        #expect(chat.model == "gpt-4o")
        #expect(chat.maxTokens == 32)  // max_completion_tokens wins
        #expect(chat.messages.count == 2)
        #expect(c.route?.name == "main")
    }

    struct Rejected: Sendable, CustomTestStringConvertible {
        var endpoint: Call.Endpoint
        var body: String
        var message: String
        var testDescription: String { "\(endpoint.rawValue): \(message)" }
    }

    static let rejected: [Rejected] = [
        Rejected(endpoint: .messages, body: #"{"max_tokens":1,"messages":[{"role":"user","content":"x"}]}"#, message: "model: field required"),
        Rejected(
            endpoint: .messages, body: #"{"model":"","max_tokens":1,"messages":[{"role":"user","content":"x"}]}"#, message: "model: must be a non-empty string"),
        Rejected(
            endpoint: .messages, body: #"{"model":"m","max_tokens":-1,"messages":[{"role":"user","content":"x"}]}"#,
            message: "max_tokens: must be an integer >= 0, got -1"),
        Rejected(endpoint: .messages, body: #"{"model":"m","max_tokens":1,"messages":[]}"#, message: "messages: at least one message is required"),
        Rejected(
            endpoint: .messages, body: #"{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"},{"role":"robot","content":"x"}]}"#,
            message: #"messages.1.role: unknown role "robot" (expected user or assistant)"#),
        Rejected(endpoint: .countTokens, body: #"{"model":"m","messages":{}}"#, message: "messages: expected an array, got object"),
        Rejected(
            endpoint: .chatCompletions, body: #"{"model":"m","messages":[{"role":"user","content":"x"}],"n":2}"#,
            message: "n: only n = 1 is supported (one choice per request), got 2"),
        Rejected(
            endpoint: .chatCompletions, body: #"{"model":"m","messages":[{"role":"user","content":"x"},{"role":"robot","content":"x"}]}"#,
            message: #"messages[1].role: unknown role "robot" (expected system, developer, user, assistant or tool)"#),
        Rejected(
            endpoint: .chatCompletions, body: #"{"model":"m","messages":[{"role":"user","content":"x"}],"stream":"yes"}"#,
            message: "stream: expected a boolean, got string"),
    ]

    @Test(arguments: rejected) func aViolationIsA400NamingTheField(_ r: Rejected) throws {
        let c = call(r.body, endpoint: r.endpoint)
        let error = try #require(failure(c))
        #expect(error.status == 400)
        #expect(error.type == .invalidRequest)
        #expect(error.message == r.message)
        #expect(c.route == nil)
        #expect(c.estimatedInputTokens == 0)
    }

    @Test(arguments: [Call.Endpoint.messages, .countTokens, .chatCompletions])
    func aBodyThatIsNotJSONIsA400(_ endpoint: Call.Endpoint) throws {
        let error = try #require(failure(call("{not json", endpoint: endpoint)))
        #expect(error.status == 400)
        #expect(error.message.hasPrefix("invalid JSON body"))
        let array = try #require(failure(call("[1]", endpoint: endpoint)))
        #expect(array.message == "the request body must be a JSON object, not array")
    }

    @Test(arguments: [Call.Endpoint.messages, .chatCompletions])
    func theCallersOwnTokenAsTheModelIsRedacted(_ endpoint: Call.Endpoint) throws {
        let token = StageFixtures.aliceToken
        let c = call(StageFixtures.body(model: "prefix-\(token)"), endpoint: endpoint, credential: token)
        let request = try c.parsed()
        #expect(request.model == "(redacted)")
        #expect(request.raw["model"] == .string("(redacted)"))
        // Routed as "(redacted)", which only the catch-all matches.
        #expect(c.route?.name == "main")
    }

    @Test func anotherUsersTokenAsTheModelIsRedacted() throws {
        let c = call(StageFixtures.body(model: StageFixtures.bobToken), credential: StageFixtures.aliceToken)
        #expect(try c.parsed().model == "(redacted)")
        #expect(try c.parsed().raw["model"] == .string("(redacted)"))
    }

    @Test func anOrdinaryModelOrAShortCredentialIsKept() throws {
        #expect(try call(StageFixtures.body(model: "claude-haiku-4-5"), credential: StageFixtures.aliceToken).parsed().model == "claude-haiku-4-5")
        // A credential under 8 characters is not looked for inside the model name.
        #expect(try call(StageFixtures.body(model: "claude-haiku-4-5"), credential: "haiku").parsed().model == "claude-haiku-4-5")
    }

    @Test(arguments: [
        ("claude-haiku-4-5", "cheap"), ("CLAUDE-HAIKU-3", "cheap"), ("claude-sonnet-4-5", "main"), ("gpt-4o", "main"),
    ])
    func theRouteIsChosenByModel(_ model: String, _ route: String) {
        #expect(call(StageFixtures.body(model: model)).route?.name == route)
    }

    @Test func theEstimateGrowsWithTheBody() throws {
        let small = StageFixtures.body(text: "hi")
        let large = StageFixtures.body(text: String(repeating: "word ", count: 2000))
        let a = call(small)
        let b = call(large)
        // About four bytes a token (translation-spec §6).
        #expect(a.estimatedInputTokens == (small.utf8.count + 3) / 4)
        #expect(b.estimatedInputTokens == (large.utf8.count + 3) / 4)
        #expect(b.estimatedInputTokens > a.estimatedInputTokens + 2400)
    }

    @Test func anUnauthenticatedCallCarriesOnlyTheRefusal() throws {
        let c = CallSetup.unauthenticated(endpoint: .chatCompletions, message: "missing credential")
        #expect(c.endpoint == .chatCompletions)
        #expect(c.bodyBytes == 0)
        #expect(c.route == nil)
        #expect(c.credential == nil)
        let error = try #require(failure(c))
        #expect(error.status == 401)
        #expect(error.message == "missing credential")
        guard case .rejected(let message)? = c.authOutcome else {
            Issue.record("no rejection outcome")
            return
        }
        #expect(message == "missing credential")
    }
}
