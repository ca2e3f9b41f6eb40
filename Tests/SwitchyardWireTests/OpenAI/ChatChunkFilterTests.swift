import SwitchyardWire
import Testing

/// Chat Completions passed through to an OpenAI client (translation-spec §7.1): usage read for
/// the ledger, hidden from a client that did not ask, every other event relayed byte for byte,
/// whatever the chunking; a stream that breaks off ends with an error event.
@Suite struct ChatChunkFilterTests {
    static let role = #"data: {"id":"g","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}"# + "\n\n"
    static let text = #"data: {"id":"g","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}"# + "\n\n"
    static let finish = #"data: {"id":"g","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"# + "\n\n"
    static let usageOnly = #"data: {"id":"g","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}}"# + "\n\n"
    static let finishWithUsage =
        #"data: {"id":"g","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":7,"completion_tokens":2,"total_tokens":9,"prompt_tokens_details":{"cached_tokens":4}}}"#
        + "\n\n"
    static let done = "data: [DONE]\n\n"

    /// Runs a transcript through a filter in pieces of `piece` bytes (0 = whole).
    static func run(_ transcript: String, includeUsage: Bool, piece: Int = 0) throws -> (out: String, filter: ChatChunkFilter) {
        var filter = ChatChunkFilter(includeUsage: includeUsage, estimatedInputTokens: 100)
        let bytes = Array(transcript.utf8)
        var out: [UInt8] = []
        let step = piece == 0 ? bytes.count : piece
        var i = 0
        while i < bytes.count {
            try filter.feed(Array(bytes[i..<min(i + step, bytes.count)]))
            out += filter.takeOutput()
            i += step
        }
        try? filter.finishInput()
        out += filter.takeOutput()
        return (String(decoding: out, as: UTF8.self), filter)
    }

    @Test(arguments: [0, 1, 7])
    func usageOnlyChunkIsDroppedForAClientThatDidNotAsk(piece: Int) throws {
        let (out, filter) = try Self.run(Self.role + Self.text + Self.finish + Self.usageOnly + Self.done, includeUsage: false, piece: piece)
        #expect(out == Self.role + Self.text + Self.finish + Self.done)
        #expect(filter.finalUsage.inputTokens == 12)
        #expect(filter.finalUsage.outputTokens == 3)
        #expect(filter.isFinished && filter.failure == nil)
    }

    @Test func everythingIsRelayedVerbatimToAClientThatAsked() throws {
        let transcript = Self.role + Self.text + Self.finish + Self.usageOnly + Self.done
        let (out, filter) = try Self.run(transcript, includeUsage: true)
        #expect(out == transcript)
        #expect(filter.finalUsage.totalTokens == 15)
    }

    @Test func usageOnAChunkWithChoicesIsRemovedAndTheRestKept() throws {
        let (out, filter) = try Self.run(Self.role + Self.finishWithUsage + Self.done, includeUsage: false)
        #expect(!out.contains("usage"))
        #expect(out.contains(#""finish_reason":"stop""#))
        #expect(out.hasSuffix(Self.done))
        #expect(filter.finalUsage.cacheReadInputTokens == 4)
        #expect(filter.finalUsage.inputTokens == 3)
    }

    @Test func anEventWithSeveralDataLinesIsReadAsOneJoinedChunk() throws {
        // SSE joins the data lines of one event with newlines; the usage must still be found.
        let split = "data: {\"id\":\"g\",\"choices\":[],\ndata: \"usage\":{\"prompt_tokens\":21,\"completion_tokens\":4}}\n\n"
        let (out, filter) = try Self.run(Self.role + Self.finish + split + Self.done, includeUsage: false, piece: 5)
        #expect(out == Self.role + Self.finish + Self.done)
        #expect(filter.finalUsage.inputTokens == 21)
        #expect(filter.finalUsage.outputTokens == 4)
    }

    @Test func anErrorBeforeTheFirstChunkIsThrownForFallback() {
        var filter = ChatChunkFilter(includeUsage: false, estimatedInputTokens: 1)
        #expect(throws: UpstreamFailure.self) {
            try filter.feed(Array((#"data: {"error":{"code":429,"message":"slow down"}}"# + "\n\n").utf8))
        }
    }

    @Test func aStreamThatBreaksOffEndsWithAnErrorEventAndNoDone() throws {
        let (out, filter) = try Self.run(Self.role + Self.text, includeUsage: false)
        #expect(out.hasPrefix(Self.role + Self.text))
        #expect(out.hasSuffix("\n\n"))
        #expect(out.contains(#"data: {"error":{"#))
        #expect(!out.contains("[DONE]"))
        #expect(filter.failure != nil)
        #expect(filter.finalUsage.estimated)
    }

    @Test func aFinishWithoutDoneStillCompletes() throws {
        let (out, filter) = try Self.run(Self.role + Self.finish, includeUsage: false)
        #expect(out == Self.role + Self.finish)
        #expect(filter.failure == nil)
    }

    @Test func passthroughBodyReplacesModelCapsTokensAndAsksForUsage() throws {
        let body = Array(
            #"{"model":"gpt-x","max_tokens":9000,"stream":true,"stream_options":{"other":1},"x_unknown":[1],"messages":[{"role":"user","content":"hi"}]}"#.utf8)
        let request = try ChatCompletionRequest.decode(body: body)
        let out = try JSONParser.parse(ChatPassthrough.body(request, upstreamModel: "up/m", maxTokensCap: 4000))
        #expect(out["model"]?.stringValue == "up/m")
        #expect(out["max_tokens"]?.intValue == 4000)
        #expect(out["stream_options"]?["include_usage"]?.boolValue == true)
        #expect(out["stream_options"]?["other"]?.intValue == 1)
        #expect(out["x_unknown"] != nil)
        #expect(request.includeUsage == false)
    }
}
