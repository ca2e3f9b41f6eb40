import SwitchyardWire
import SwitchyardWireTesting
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

    @Test func interleavedParallelToolFragmentsAreNotLost() throws {
        var t = ChatStreamTranslator(context: context)
        func tc(_ json: String) -> [UInt8] { Array(chunk(#"{"tool_calls":[\#(json)]}"#).utf8) }
        try t.feed(tc(#"{"index":0,"id":"call_0","type":"function","function":{"name":"Read","arguments":""}}"#))
        try t.feed(tc(#"{"index":1,"id":"call_1","type":"function","function":{"name":"Grep","arguments":""}}"#))
        try t.feed(tc(#"{"index":0,"function":{"arguments":"{\"file_path\""}}"#))
        try t.feed(tc(#"{"index":1,"function":{"arguments":"{\"q\": "}}"#))
        try t.feed(tc(#"{"index":0,"function":{"arguments":": \"/a\"}"}}"#))
        try t.feed(tc(#"{"index":1,"function":{"arguments":"\"x\"}"}}"#))
        try t.feed(Array((chunk("{}", finish: "tool_calls") + "data: [DONE]\n\n").utf8))
        let events = SSEEvents.parse(t.takeOutput())
        var inputs: [Int64: String] = [:]
        var names: [Int64: String] = [:]
        var order: [String] = []
        for e in events {
            let d = e["data"]!
            if let i = d["index"]?.intValue {
                if let n = d["content_block"]?["name"]?.stringValue { names[i] = n }
                if let p = d["delta"]?["partial_json"]?.stringValue { inputs[i, default: ""] += p }
            }
            order.append(e["event"]!.stringValue!)
        }
        #expect(names == [0: "Read", 1: "Grep"])
        #expect(inputs[0] == #"{"file_path": "/a"}"#)
        #expect(inputs[1] == #"{"q": "x"}"#)
        // Blocks stay strictly sequential: start 0 … stop 0, start 1 … stop 1.
        let starts = order.enumerated().filter { $0.element == "content_block_start" }.map(\.offset)
        let stops = order.enumerated().filter { $0.element == "content_block_stop" }.map(\.offset)
        #expect(starts.count == 2 && stops.count == 2 && stops[0] < starts[1])
        #expect(t.droppedFragments == 0)
    }
}
