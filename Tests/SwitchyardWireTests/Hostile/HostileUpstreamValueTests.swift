import Foundation
import SwitchyardWire
import SwitchyardWireTesting
import Testing

/// Upstream replies are untrusted: hostile token counts, Retry-After values, strings and chunk
/// floods must come out as bounded, well-formed answers. Each test states what comes out.
@Suite struct HostileUpstreamValueTests {
    static let counts: [(json: String, expected: Int?)] = [
        ("-1", 0), ("0", 0), ("5", 5), ("9223372036854775807", Usage.maxTokens), ("-9223372036854775808", 0),
        ("99999999999999999999", Usage.maxTokens), ("-99999999999999999999", 0), ("1e300", Usage.maxTokens), ("5.5", nil), ("5.0", 5), ("\"12\"", nil),
        ("null", nil),
        ("true", nil), ("[]", nil), ("{}", nil), ("1000000001", Usage.maxTokens),
    ]

    @Test(arguments: counts) func openAIUsageCountsAreClampedOrIgnored(_ c: (json: String, expected: Int?)) throws {
        let usage = try #require(Usage(openAI: try JSONParser.parse(#"{"prompt_tokens":\#(c.json),"completion_tokens":\#(c.json)}"#)))
        #expect(usage.inputTokens == (c.expected ?? 0))
        #expect(usage.outputTokens == (c.expected ?? 0))
        #expect(usage.totalTokens >= 0 && usage.totalTokens <= 4 * Usage.maxTokens)
    }

    @Test(arguments: counts) func anthropicUsageMergeKeepsOnlyIntegers(_ c: (json: String, expected: Int?)) throws {
        var usage = Usage(inputTokens: 7, outputTokens: 7, cacheReadInputTokens: 7, cacheCreationInputTokens: 7)
        usage.merge(
            anthropic: try JSONParser.parse(
                #"{"input_tokens":\#(c.json),"output_tokens":\#(c.json),"cache_read_input_tokens":\#(c.json),"cache_creation_input_tokens":\#(c.json)}"#))
        #expect(usage.inputTokens == (c.expected ?? 7))
        #expect(usage.cacheCreationInputTokens == (c.expected ?? 7))
        #expect(usage.totalInputTokens == 3 * (c.expected ?? 7))
    }

    @Test func cachedTokensLargerThanThePromptNeverGoNegative() throws {
        let usage = try #require(
            Usage(
                openAI: try JSONParser.parse(
                    #"{"prompt_tokens":5,"completion_tokens":1,"prompt_tokens_details":{"cached_tokens":9223372036854775807,"cache_write_tokens":-4}}"#)))
        #expect(usage.inputTokens == 0)
        #expect(usage.cacheReadInputTokens == Usage.maxTokens)
        #expect(usage.cacheCreationInputTokens == 0)
    }

    @Test func saturatingSumsStopAtTheBounds() {
        #expect(Int.max.addingSaturated(1) == .max)
        #expect(Int.min.addingSaturated(-1) == .min)
        #expect(Int.min.subtractingSaturated(1) == .min)
        #expect(Int.max.subtractingSaturated(-1) == .max)
        #expect(UInt64.max.addingSaturated(1) == .max)
        #expect(5.addingSaturated(-7) == -2)
    }

    static let retryAfters: [(String, Double?)] = [
        ("1", 1), ("0", 0), ("1.5", 1.5), ("86400", 86_400), ("86401", nil), ("1e30", nil), ("nan", nil), ("NaN", nil),
        ("inf", nil), ("-inf", nil), ("-5", nil), ("+5", nil), ("99999999999999999999", nil), ("abc", nil), ("", nil), ("1.2.3", nil),
        (String(repeating: "9", count: 5000), nil), ("0x10", nil), (" 7 ", 7),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0), ("Thu, 03 Dec 2026 08:00:30 GMT", 30), ("Sat, 03 Dec 2126 08:00:00 GMT", nil),
        ("Thu, 03 Dec 2026 25:00:00 GMT", nil), ("Thursday, 03-Dec-26 08:00:30 GMT", nil),
    ]

    @Test(arguments: retryAfters) func retryAfterIsBoundedOrIgnored(_ c: (String, Double?)) {
        let now = 1_796_284_800.0  // Thu, 03 Dec 2026 08:00:00 GMT
        #expect(RetryAfter.seconds(c.0, now: now) == c.1)
    }

    @Test func aFailureRelaysOnlyABoundedIntegerRetryAfter() {
        for header in ["1e30", "nan", "-1", "abc"] {
            let f = UpstreamErrorParser.failure(status: 429, body: [], retryAfter: header)
            #expect(f.retryAfterSeconds == nil)
            #expect(!f.responseHeaders.contains { $0.0 == "retry-after" })
        }
        let f = UpstreamErrorParser.failure(status: 429, body: [], retryAfter: "2.2")
        #expect(f.responseHeaders.contains { $0 == ("retry-after", "3") })
    }

    // MARK: Streams

    let context = ResponseContext(clientModel: "claude-x", estimatedInputTokens: 10)

    func chunk(_ delta: String, finish: String? = nil, usage: String? = nil) -> String {
        let f = finish.map { "\"\($0)\"" } ?? "null"
        let u = usage.map { #","usage":\#($0)"# } ?? ""
        return #"data: {"choices":[{"index":0,"delta":\#(delta),"finish_reason":\#(f)}]\#(u)}"# + "\n\n"
    }

    /// Every event of a finished stream parses, and the stream ends in message_stop or error.
    func expectWellFormed(_ bytes: [UInt8]) -> [JSONValue] {
        let events = SSEEvents.parse(bytes)
        for e in events { #expect(e["data"]?.objectValue != nil, "an event whose data is not JSON: \(e)") }
        let last = events.last?["event"]?.stringValue
        #expect(last == "message_stop" || last == "error", "stream ended with \(last ?? "nothing")")
        return events
    }

    @Test(arguments: ["-1", "9223372036854775807", "1e300", "\"5\"", "null", "[1]"])
    func hostileStreamUsageEndsInABoundedMessageDelta(_ count: String) throws {
        var t = ChatStreamTranslator(context: context)
        try t.feed(Array(chunk(#"{"content":"hi"}"#).utf8))
        try t.feed(Array(chunk("{}", finish: "stop", usage: #"{"prompt_tokens":\#(count),"completion_tokens":\#(count)}"#).utf8))
        try t.finishInput()
        let events = expectWellFormed(t.takeOutput())
        let usage = try #require(events.first { $0["event"]?.stringValue == "message_delta" }?["data"]?["usage"])
        for key in ["input_tokens", "output_tokens"] {
            let v = try #require(usage[key]?.intValue)
            #expect(v >= 0 && v <= Int64(Usage.maxTokens))
        }
    }

    @Test func aForeignReasoningFloodMergesIntoOneSignatureHoldingAllTheText() throws {
        var t = ChatStreamTranslator(context: context)
        let detail = #"{"reasoning_details":[{"type":"reasoning.text","text":"ab","format":"openai-responses-v1","index":0}]}"#
        var feed: [UInt8] = []
        for _ in 0..<4000 { feed += Array(chunk(detail).utf8) }
        try t.feed(feed)
        try t.feed(Array(chunk(#"{"content":"done"}"#, finish: "stop").utf8))
        try t.finishInput()
        let events = expectWellFormed(t.takeOutput())
        let signatures = events.compactMap { $0["data"]?["delta"]?["signature"]?.stringValue }
        #expect(signatures.count == 1)
        let signature = try #require(signatures.first)
        let decoded = try #require(ReasoningCodec.decode(signature))
        #expect(decoded["text"]?.stringValue == String(repeating: "ab", count: 4000))
        #expect(decoded["format"]?.stringValue == "openai-responses-v1")
    }

    @Test func aFloodOfOneCharacterChunksKeepsEveryCharacter() throws {
        var t = ChatStreamTranslator(context: context)
        var expected = ""
        for i in 0..<20_000 {
            let c = String(UnicodeScalar(UInt8(97 + i % 26)))
            expected += c
            try t.feed(Array(chunk(#"{"content":"\#(c)"}"#).utf8))
        }
        try t.feed(Array(chunk("{}", finish: "stop").utf8))
        try t.finishInput()
        let events = expectWellFormed(t.takeOutput())
        let text = events.compactMap { $0["data"]?["delta"]?["text"]?.stringValue }.joined()
        #expect(text == expected)
    }

    @Test(arguments: [#"\ud83d\ude00"#, #"\ud800"#, #"\udfff\ud800x"#, #"\u0000"#, "é中😀", String(repeating: "ü", count: 100_000)])
    func oddStringsComeOutAsValidJSON(_ content: String) throws {
        var t = ChatStreamTranslator(context: context)
        try t.feed(Array(chunk(#"{"content":"\#(content)"}"#, finish: "stop").utf8))
        try t.finishInput()
        let events = expectWellFormed(t.takeOutput())
        #expect(events.contains { $0["event"]?.stringValue == "message_stop" })
    }

    /// Random damage to a valid transcript, fed in random pieces: whatever happens, the output
    /// is well-formed SSE ending in message_stop or error, or the failure is thrown before commit.
    @Test func damagedTranscriptsAlwaysEndWellFormed() throws {
        let valid = Array(
            (chunk(#"{"reasoning_details":[{"type":"reasoning.text","text":"t","format":"x","index":0}]}"#)
                + chunk(#"{"content":"hello"}"#)
                + chunk(#"{"tool_calls":[{"index":0,"id":"call_1","function":{"name":"f","arguments":"{\"a\":"}}]}"#)
                + chunk(#"{"tool_calls":[{"index":0,"function":{"arguments":"1}"}}]}"#)
                + chunk("{}", finish: "tool_calls", usage: #"{"prompt_tokens":3,"completion_tokens":-4}"#) + "data: [DONE]\n\n").utf8)
        var rng = SeededRandom(seed: 42)
        let specials: [UInt8] = Array("{}[]\":,\\\n-9e.".utf8) + [0, 0xFF, 0xC3]
        for _ in 0..<400 {
            var bytes = valid
            for _ in 0..<(1 + Int(rng.next() % 6)) {
                let i = Int(rng.next() % UInt64(bytes.count))
                switch rng.next() % 3 {
                case 0: bytes[i] = specials[Int(rng.next() % UInt64(specials.count))]
                case 1: bytes.remove(at: i)
                default: bytes.insert(specials[Int(rng.next() % UInt64(specials.count))], at: i)
                }
            }
            var t = ChatStreamTranslator(context: context)
            var output: [UInt8] = []
            var threw = false
            var start = 0
            while start < bytes.count {
                let end = min(bytes.count, start + 1 + Int(rng.next() % 64))
                do { try t.feed(Array(bytes[start..<end])) } catch {
                    threw = true
                    break
                }
                output += t.takeOutput()
                start = end
            }
            if !threw { do { try t.finishInput() } catch { threw = true } }
            output += t.takeOutput()
            if threw && output.isEmpty { continue }  // failed before commit: an HTTP error, not a stream
            _ = expectWellFormed(output)
        }
    }

    @Test func hostileNonStreamedBodiesAreTranslatedWithBoundedUsageOrRefused() throws {
        let bodies = [
            #"{"choices":[{"message":{"content":"x"},"finish_reason":"stop"}],"usage":{"prompt_tokens":-1,"completion_tokens":9223372036854775807}}"#,
            #"{"choices":[{"message":{"content":null,"reasoning_details":[\#(Array(repeating: #"{"type":"reasoning.text","text":"ab","index":0,"format":"y"}"#, count: 3000).joined(separator: ","))]},"finish_reason":"stop"}]}"#,
            #"{"choices":"nope"}"#, #"{"choices":[]}"#, "[1,2]", "<html>", "",
        ]
        for body in bodies {
            do {
                let result = try ChatResponseTranslator.translate(body: Array(body.utf8), context: context)
                #expect(result.usage.totalTokens >= 0 && result.usage.totalTokens <= 4 * Usage.maxTokens)
                #expect((try? JSONParser.parse(result.body)) != nil)
            } catch {
                #expect(error.kind == .badResponse || error.kind == .serverError, "\(error)")
            }
        }
    }
}
