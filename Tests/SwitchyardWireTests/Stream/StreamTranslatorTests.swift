import SwitchyardTesting
import SwitchyardWire
import Testing

@Suite struct StreamTranslatorTests {
    let context = ResponseContext(clientModel: "claude-x", estimatedInputTokens: 10)

    func chunk(_ delta: String, finish: String? = nil) -> String {
        let f = finish.map { "\"\($0)\"" } ?? "null"
        return #"data: {"choices":[{"index":0,"delta":\#(delta),"finish_reason":\#(f)}]}"# + "\n\n"
    }

    @Test func commentsBecomePingsOnlyAfterCommitAndAtMostEvery5s() throws {
        var t = ChatStreamTranslator(context: context)
        try t.feed(Array(": OPENROUTER PROCESSING\n\n".utf8), nowNanos: 10_000_000_000)
        #expect(!t.committed)
        #expect(!t.hasOutput)
        try t.feed(Array(chunk(#"{"content":"a"}"#).utf8), nowNanos: 11_000_000_000)
        _ = t.takeOutput()
        try t.feed(Array(": keepalive\n".utf8), nowNanos: 17_000_000_000)
        try t.feed(Array(": keepalive\n".utf8), nowNanos: 18_000_000_000)
        let events = SSEEvents.parse(t.takeOutput(), includePings: true)
        #expect(events.count == 1)
        #expect(events.first?["event"]?.stringValue == "ping")
    }

    @Test func anErrorBeforeCommitIsThrownNotStreamed() {
        var t = ChatStreamTranslator(context: context)
        #expect(throws: UpstreamFailure.self) {
            try t.feed(Array(#"data: {"error":{"code":429,"message":"slow down"}}"#.utf8 + [0x0A]))
        }
        #expect(!t.hasOutput)
    }

    @Test func externalFailureAfterCommitEndsWithAnErrorEvent() throws {
        var t = ChatStreamTranslator(context: context)
        try t.feed(Array(chunk(#"{"content":"partial"}"#).utf8))
        try t.fail(UpstreamFailure(kind: .timeout, message: "upstream went silent"))
        let events = SSEEvents.parse(t.takeOutput())
        #expect(events.last?["event"]?.stringValue == "error")
        #expect(events.last?["data"]?["error"]?["type"]?.stringValue == "timeout_error")
        #expect(!events.contains { $0["event"]?.stringValue == "message_stop" })
        #expect(t.isFinished)
    }

    @Test func anOversizedLineIsAFailureNotUnboundedMemory() {
        var t = ChatStreamTranslator(context: context, maxLineBytes: 1024)
        #expect(throws: UpstreamFailure.self) { try t.feed(Array(repeating: UInt8(ascii: "x"), count: 5000)) }
    }

    @Test func argumentFragmentsPassThroughVerbatim() throws {
        var t = ChatStreamTranslator(context: context)
        let fragments = [#"{\"a\": "#, #"\"b c"#, #"\"}"#]
        try t.feed(Array(chunk(#"{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"f","arguments":""}}]}"#).utf8))
        for f in fragments { try t.feed(Array(chunk(#"{"tool_calls":[{"index":0,"function":{"arguments":"\#(f)"}}]}"#).utf8)) }
        try t.feed(Array((chunk("{}", finish: "tool_calls") + "data: [DONE]\n\n").utf8))
        let events = SSEEvents.parse(t.takeOutput())
        let partials = events.compactMap { $0["data"]?["delta"]?["partial_json"]?.stringValue }
        #expect(partials.joined() == #"{"a": "b c"}"#)
        #expect(events.contains { $0["data"]?["delta"]?["stop_reason"]?.stringValue == "tool_use" })
    }
}
