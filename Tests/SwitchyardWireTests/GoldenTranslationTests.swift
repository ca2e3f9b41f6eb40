import Foundation
import SwitchyardWire
import SwitchyardWireTesting
import Testing

/// The golden fixtures (one directory per translation-spec vector and edge case), each run
/// through the real translators and compared as parsed JSON.
@Suite struct GoldenTranslationTests {
    @Test func fixturesArePresent() {
        #expect(GoldenCase.all.count >= 150)
        #expect(Set(GoldenCase.all.map(\.kind)) == ["request", "response", "stream"])
    }

    @Test(arguments: GoldenCase.all.filter { $0.kind == "request" })
    func request(_ c: GoldenCase) throws {
        let body = try c.bytes("anthropic.request.json")
        let decoded: Result<MessagesRequest, RequestValidationError> = Result { try MessagesRequest.decode(body: body) }.mapError {
            $0 as! RequestValidationError
        }
        if c.has("expected.error.json") {
            let expected = try c.json("expected.error.json")
            guard case .failure(let error) = decoded else {
                Issue.record("\(c.name): expected a validation error, the request was accepted")
                return
            }
            #expect(expected["status"]?.intValue == 400)
            let needle = expected["message_contains"]?.stringValue ?? ""
            #expect(error.description.contains(needle), "\(c.name): \"\(error.description)\" lacks \"\(needle)\"")
            return
        }
        let request = try decoded.get()
        if c.has("expected.local.json") {
            let actual = try JSONParser.parse(LocalMessages.emptyMessage(model: request.model, estimatedInputTokens: 7, stream: false))
            let diff = JSONMatcher.difference(expected: try c.json("expected.local.json"), actual: actual)
            #expect(diff == nil, "\(c.name): \(diff ?? "")")
            return
        }
        var builder = ChatRequestBuilder(options: c.options)
        let actual = JSONValue.object(builder.build(request))
        let diff = JSONMatcher.difference(expected: try c.json("openai.request.json"), actual: actual)
        #expect(diff == nil, "\(c.name): \(diff ?? "")")
    }

    @Test(arguments: GoldenCase.all.filter { $0.kind == "response" })
    func response(_ c: GoldenCase) throws {
        let body = c.has("openai.response.txt") ? try c.bytes("openai.response.txt") : try c.bytes("openai.response.json")
        let outcome: Result<JSONValue, UpstreamFailure>
        if (200..<300).contains(c.upstreamStatus) {
            outcome = Result { try JSONParser.parse(ChatResponseTranslator.translate(body: body, context: c.responseContext).body) }
                .mapError { $0 as! UpstreamFailure }
        } else {
            outcome = .failure(UpstreamErrorParser.failure(status: c.upstreamStatus, body: body, retryAfter: c.upstreamRetryAfter))
        }
        try Self.check(c, outcome: outcome, expectedFile: "anthropic.response.json")
    }

    @Test(arguments: GoldenCase.all.filter { $0.kind == "stream" })
    func stream(_ c: GoldenCase) throws {
        let sse = try c.bytes("openai.sse")
        if !(200..<300).contains(c.upstreamStatus) {
            let failure = UpstreamErrorParser.failure(status: c.upstreamStatus, body: sse, retryAfter: c.upstreamRetryAfter)
            try Self.check(c, outcome: .failure(failure), expectedFile: "")
            return
        }
        // The same transcript fed whole, line by line and byte by byte must give the same events.
        let whole = Self.translate(sse, chunks: [sse.count], context: c.responseContext)
        let lines = Self.translate(sse, chunks: Self.lineLengths(sse), context: c.responseContext)
        let bytes = Self.translate(sse, chunks: Array(repeating: 1, count: sse.count), context: c.responseContext)
        #expect(Self.normalized(whole) == Self.normalized(lines), "\(c.name): line-by-line differs from whole")
        #expect(Self.normalized(whole) == Self.normalized(bytes), "\(c.name): byte-by-byte differs from whole")
        try Self.check(c, outcome: whole, expectedFile: "anthropic.events.json")
    }

    static func check(_ c: GoldenCase, outcome: Result<JSONValue, UpstreamFailure>, expectedFile: String) throws {
        if c.has("expected.error.json") {
            let expected = try c.json("expected.error.json")
            guard case .failure(let failure) = outcome else {
                Issue.record("\(c.name): expected an error, got \(outcome)")
                return
            }
            let (status, type) = failure.downstream
            #expect(status == expected["status"]?.intValue.map(Int.init), "\(c.name): status \(status)")
            #expect(type.rawValue == expected["type"]?.stringValue, "\(c.name): type \(type.rawValue)")
            let needle = expected["message_contains"]?.stringValue ?? ""
            #expect(needle.isEmpty || failure.message.contains(needle), "\(c.name): \"\(failure.message)\" lacks \"\(needle)\"")
            for member in expected["headers"]?.objectValue?.members ?? [] {
                let value = failure.responseHeaders.first { $0.0 == member.key }?.1
                #expect(value == member.value.stringValue, "\(c.name): header \(member.key) = \(value ?? "nil")")
            }
            return
        }
        switch outcome {
        case .failure(let failure):
            Issue.record("\(c.name): unexpected failure \(failure)")
        case .success(let actual):
            let diff = JSONMatcher.difference(expected: try c.json(expectedFile), actual: actual)
            #expect(diff == nil, "\(c.name): \(diff ?? "")")
        }
    }

    /// Feeds `sse` in pieces of the given sizes; returns the events, or the pre-commit failure.
    static func translate(_ sse: [UInt8], chunks: [Int], context: ResponseContext) -> Result<JSONValue, UpstreamFailure> {
        var translator = ChatStreamTranslator(context: context)
        var output: [UInt8] = []
        var offset = 0
        do throws(UpstreamFailure) {
            for size in chunks where offset < sse.count {
                let end = min(offset + size, sse.count)
                try translator.feed(Array(sse[offset..<end]))
                output += translator.takeOutput()
                offset = end
            }
            try translator.finishInput()
            output += translator.takeOutput()
        } catch {
            return .failure(error)
        }
        return .success(.array(SSEEvents.parse(output)))
    }

    static func lineLengths(_ bytes: [UInt8]) -> [Int] {
        var out: [Int] = []
        var start = 0
        for (i, b) in bytes.enumerated() where b == 0x0A {
            out.append(i + 1 - start)
            start = i + 1
        }
        if start < bytes.count { out.append(bytes.count - start) }
        return out
    }

    /// Events with generated ids blanked, for comparing runs with each other.
    static func normalized(_ r: Result<JSONValue, UpstreamFailure>) -> String {
        switch r {
        case .failure(let f): return "failure: \(f)"
        case .success(let v):
            var text = JSONWriter.encodeString(v)
            while let range = text.range(of: #"(msg|toolu)_[A-Za-z0-9]{24}"#, options: .regularExpression) {
                text.replaceSubrange(range, with: "ID")
            }
            return text
        }
    }
}
