import SwitchyardWire
import SwitchyardWireTesting
import Testing

/// The OpenAI front door's golden fixtures (translation-spec §7, docs/openai-front-door.md), each
/// run through the real decoder and translators and compared as parsed JSON; streams are fed
/// whole, line by line and byte by byte.
@Suite struct OpenAIInboundGoldenTests {
    @Test func fixturesArePresent() {
        #expect(OpenAIInboundCase.all.count >= 90)
        #expect(Set(OpenAIInboundCase.all.map(\.kind)) == ["request", "request_error", "response", "stream"])
    }

    @Test(arguments: OpenAIInboundCase.of(kind: "request"))
    func request(_ c: OpenAIInboundCase) throws {
        let request = try ChatCompletionRequest.decode(body: try c.bytes("chat.request.json"))
        let actual = try JSONParser.parse(try AnthropicRequestFromChat.encode(request, upstreamModel: c.upstreamModel, maxTokensCap: c.maxTokensCap))
        let diff = JSONMatcher.difference(expected: try c.json("anthropic.request.json"), actual: actual)
        #expect(diff == nil, "\(c.name): \(diff ?? "")")
    }

    @Test(arguments: OpenAIInboundCase.of(kind: "request_error"))
    func requestError(_ c: OpenAIInboundCase) throws {
        let expected = try c.json("error.json")
        let needle = expected["message_contains"]?.stringValue ?? "?"
        guard let error = Self.validationError(try c.bytes("chat.request.json"), c) else {
            Issue.record("\(c.name): expected a validation error, the request was accepted")
            return
        }
        #expect(error.description.contains(needle), "\(c.name): \"\(error.description)\" lacks \"\(needle)\"")
    }

    /// What decoding and translating the body refuses, if anything.
    static func validationError(_ body: [UInt8], _ c: OpenAIInboundCase) -> RequestValidationError? {
        do throws(RequestValidationError) {
            let request = try ChatCompletionRequest.decode(body: body)
            _ = try AnthropicRequestFromChat.encode(request, upstreamModel: c.upstreamModel, maxTokensCap: c.maxTokensCap)
            return nil
        } catch {
            return error
        }
    }

    @Test(arguments: OpenAIInboundCase.of(kind: "response"))
    func response(_ c: OpenAIInboundCase) throws {
        let result = try ChatResponseFromAnthropic.translate(body: try c.bytes("anthropic.response.json"), context: c.replyContext)
        let actual = OpenAIInboundCase.normalisingArguments(try JSONParser.parse(result.body))
        let expected = OpenAIInboundCase.normalisingArguments(try c.json("chat.response.json"))
        let diff = JSONMatcher.difference(expected: expected, actual: actual)
        #expect(diff == nil, "\(c.name): \(diff ?? "")")
    }

    @Test(arguments: OpenAIInboundCase.of(kind: "stream"))
    func stream(_ c: OpenAIInboundCase) throws {
        let sse = try c.bytes("anthropic.sse")
        let expected = OpenAIInboundCase.dataPayloads(try c.bytes("chat.sse"))
        let lineCuts = sse.indices.filter { sse[$0] == 0x0A }.map { $0 + 1 }
        for (label, cuts) in [("whole", [sse.count]), ("by line", lineCuts + [sse.count]), ("by byte", Array(1...sse.count))] {
            var translator = ChatChunkTranslator(context: c.replyContext)
            var out: [UInt8] = []
            var start = 0
            for end in cuts where end > start {
                try translator.feed(Array(sse[start..<end]))
                out += translator.takeOutput()
                start = end
            }
            try? translator.finishInput()
            out += translator.takeOutput()
            let actual = OpenAIInboundCase.dataPayloads(out)
            let diff = JSONMatcher.difference(expected: .array(expected), actual: .array(actual))
            #expect(diff == nil, "\(c.name) (\(label)): \(diff ?? "")")
        }
    }
}
