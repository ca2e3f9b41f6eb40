import SwitchyardWire
import SwitchyardWireTesting
import Testing

@Suite struct SecretScrubberTests {
    static let key = "sk-UPSTREAM-SECRET-1234567890"
    let text = Array(("before " + SecretScrubberTests.key + " after").utf8)

    @Test func aSecretSplitAtEveryPositionIsStillBlanked() {
        for split in 1..<text.count {
            var scrubber = SecretScrubber(secrets: [Self.key])
            let out = scrubber.scrub(Array(text[..<split])) + scrubber.scrub(Array(text[split...])) + scrubber.finish()
            #expect(String(decoding: out, as: UTF8.self) == "before *** after", "split at \(split)")
        }
    }

    @Test func aSecretFedByteByByteIsBlanked() {
        var scrubber = SecretScrubber(secrets: [Self.key, "other-secret"])
        var out: [UInt8] = []
        for b in text { out += scrubber.scrub([b]) }
        out += scrubber.finish()
        #expect(String(decoding: out, as: UTF8.self) == "before *** after")
    }

    @Test func onlyAPartialMatchIsHeldBack() {
        var scrubber = SecretScrubber(secrets: [Self.key])
        #expect(scrubber.scrub(Array("event: x\ndata: {}\n\n".utf8)) == Array("event: x\ndata: {}\n\n".utf8))
        #expect(scrubber.scrub(Array("text ending sk-UPS".utf8)) == Array("text ending ".utf8))
        #expect(scrubber.scrub(Array("HOT".utf8)) == Array("sk-UPSHOT".utf8))
    }

    @Test func aCutOffSecretAtTheEndLeaksNoPrefix() {
        for keep in 6..<Self.key.count {
            let body = Array(("quoted: " + Self.key.prefix(keep)).utf8)
            let out = String(decoding: SecretScrubber.scrubAll(body, secrets: [Self.key]), as: UTF8.self)
            #expect(out == "quoted: ***", "kept \(keep)")
        }
        // A few characters that merely look like the start of a key are ordinary text.
        #expect(SecretScrubber.scrubAll(Array("ends with sk-".utf8), secrets: [Self.key]) == Array("ends with sk-".utf8))
    }

    @Test func redactThenCutNeverLeavesAPrefixOrHalfAMask() {
        for pad in 250..<310 {
            let text = String(repeating: "x", count: pad) + Self.key + "tail"
            let out = text.redacting([Self.key], truncatedTo: 300)
            #expect(!out.contains("sk-U"), "pad \(pad)")
            #expect(out.utf8.count <= 300)
            if out.hasSuffix("*") { #expect(out.hasSuffix("***")) }
        }
    }

    @Test func translatedDeltasSplittingASecretAreBlanked() throws {
        var context = ResponseContext(clientModel: "claude-x")
        context.redactions = [Self.key]
        for split in 1..<Self.key.count {
            var t = ChatStreamTranslator(context: context)
            let a = String(Self.key.prefix(split))
            let b = String(Self.key.dropFirst(split))
            for piece in ["key: " + a, b + " end"] {
                try t.feed(Array((#"data: {"choices":[{"index":0,"delta":{"content":"\#(piece)"}}]}"# + "\n\n").utf8))
            }
            try t.feed(Array((#"data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"# + "\n\n").utf8))
            try t.finishInput()
            let events = SSEEvents.parse(t.takeOutput())
            let text = events.compactMap { $0["data"]?["delta"]?["text"]?.stringValue }.joined()
            #expect(text == "key: *** end", "split at \(split)")
        }
    }
}
