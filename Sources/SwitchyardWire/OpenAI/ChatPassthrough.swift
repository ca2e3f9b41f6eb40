/// Chat Completions to an OpenAI-compatible upstream (translation-spec §7.1): the client's body
/// with the routed model, the target's max-tokens cap and, on streams, usage asked for.
public enum ChatPassthrough {
    public static func body(_ request: ChatCompletionRequest, upstreamModel: String, maxTokensCap: Int?) -> [UInt8] {
        var o = request.raw
        o["model"] = .string(upstreamModel)
        if let cap = maxTokensCap {
            for key in ["max_tokens", "max_completion_tokens"] {
                if let v = o[key]?.intValue, v > Int64(cap) { o[key] = .int(Int64(cap)) }
            }
        }
        if request.stream {
            var options = o["stream_options"]?.objectValue ?? JSONObject()
            options["include_usage"] = .bool(true)
            o["stream_options"] = .object(options)
        }
        return JSONWriter.encode(.object(o), capacity: 1024)
    }
}

/// Relays an OpenAI-compatible upstream's chunk stream to an OpenAI client, event by event: it
/// reads the usage for the ledger and limits, hides usage from a client that did not ask for it
/// (a usage-only chunk is dropped, a `usage` key on a chunk with choices removed), and passes
/// every other event through byte for byte. Pure; fed bytes in any pieces.
///
/// Commit point: the first data event that is not an error. A stream that ends without
/// `[DONE]` or a `finish_reason` gets a terminal `data: {"error":…}`.
public struct ChatChunkFilter: Sendable {
    let includeUsage: Bool
    let estimatedInputTokens: Int
    var framer = SSEEventFramer()
    var output: [UInt8] = []
    public private(set) var committed = false
    public private(set) var finished = false
    public private(set) var failure: UpstreamFailure?
    var sawFinish = false
    var usage: Usage?
    var outputBytes = 0
    let maxEventBytes: Int

    public init(includeUsage: Bool, estimatedInputTokens: Int, maxEventBytes: Int = 16 << 20) {
        self.includeUsage = includeUsage
        self.estimatedInputTokens = estimatedInputTokens
        self.maxEventBytes = maxEventBytes
    }

    public var isFinished: Bool { finished || failure != nil }

    /// The usage reported, or the estimate when the upstream reported none.
    public var finalUsage: Usage {
        usage ?? Usage.estimate(inputTokens: estimatedInputTokens, outputTokens: (outputBytes + 3) / 4)
    }

    public mutating func takeOutput() -> [UInt8] {
        defer { output.removeAll(keepingCapacity: true) }
        return output
    }

    /// Feeds upstream bytes. Throws only before commit.
    public mutating func feed(_ bytes: [UInt8]) throws(UpstreamFailure) {
        guard !isFinished else { return }
        let complete = framer.complete(bytes)
        if framer.pendingBytes > maxEventBytes {
            try fail(UpstreamFailure(kind: .badResponse, upstreamStatus: 200, message: "upstream sent an SSE event longer than \(maxEventBytes) bytes"))
            return
        }
        var start = 0
        let end = complete.count
        var i = 0
        // Events end at a blank line (`\n\n` or `\n\r\n`, as SSEEventFramer cuts them).
        while i < end {
            var boundary: Int? = nil
            if complete[i] == 0x0A, i + 1 < end {
                if complete[i + 1] == 0x0A { boundary = i + 1 } else if complete[i + 1] == 0x0D, i + 2 < end, complete[i + 2] == 0x0A { boundary = i + 2 }
            }
            if let boundary {
                try event(complete[start...boundary])
                i = boundary + 1
                start = i
                if isFinished { return }
            } else {
                i += 1
            }
        }
        if start < end { try event(complete[start..<end]) }
    }

    /// The upstream body ended.
    public mutating func finishInput() throws(UpstreamFailure) {
        guard !isFinished else { return }
        let rest = framer.finish()
        if !rest.isEmpty { try event(rest[...]) }
        if isFinished { return }
        if sawFinish {
            finished = true
            return
        }
        try fail(
            UpstreamFailure(
                kind: .badResponse, upstreamStatus: committed ? 502 : 200,
                message: committed ? "upstream stream ended before completion" : "upstream stream ended before any data"))
    }

    public mutating func fail(_ failure: UpstreamFailure) throws(UpstreamFailure) {
        guard !isFinished else { return }
        self.failure = failure
        guard committed else { throw failure }
        output += OpenAIErrorEnvelope.sseEvent(type: failure.downstream.type, message: failure.message, code: OpenAIErrorEnvelope.code(for: failure))
    }

    mutating func event(_ bytes: ArraySlice<UInt8>) throws(UpstreamFailure) {
        guard let payload = Self.data(of: bytes) else {
            if committed { output += bytes }  // comments and keep-alives pass once the client has its 200
            return
        }
        if payload.elementsEqual("[DONE]".utf8) {
            finished = true
            if committed { output += bytes }
            return
        }
        guard let chunk = payload.withUnsafeBytes({ try? JSONParser.parse($0) }) else {
            if !committed { throw UpstreamFailure(kind: .badResponse, upstreamStatus: 200, message: "upstream sent an unreadable chunk") }
            return
        }
        if let error = chunk["error"] {
            let failure = UpstreamErrorParser.failure(errorObject: error)
            if !committed { throw failure }
            output += bytes  // the upstream's own error event, as sent: the client's SDK raises on it
            self.failure = failure
            return
        }
        committed = true
        if case .array(let choices)? = chunk["choices"] {
            for choice in choices {
                if let f = choice["finish_reason"], !f.isNull { sawFinish = true }
                outputBytes = outputBytes.addingSaturated(choice["delta"]?["content"]?.stringValue?.utf8.count ?? 0)
            }
        }
        guard let u = chunk["usage"], !u.isNull else {
            output += bytes
            return
        }
        usage = Usage(openAI: u)
        if includeUsage {
            output += bytes
        } else if case .array(let choices)? = chunk["choices"], !choices.isEmpty, case .object(var o) = chunk {
            o["usage"] = nil
            output += Array("data: ".utf8) + JSONWriter.encode(.object(o)) + Array("\n\n".utf8)
        }
    }

    /// The joined `data:` payload of one event, nil when it has none.
    static func data(of event: ArraySlice<UInt8>) -> ArraySlice<UInt8>? {
        // The usual event has one data line: its value is returned as a slice of the event, with
        // no copy. Several data lines (rare) are joined with newlines, as SSE says.
        var first: ArraySlice<UInt8>? = nil
        var joined: [UInt8]? = nil
        var lineStart = event.startIndex
        var i = event.startIndex
        while i <= event.endIndex {
            if i == event.endIndex || event[i] == 0x0A || event[i] == 0x0D {
                let line = event[lineStart..<i]
                if line.starts(with: "data:".utf8) {
                    var value = line.dropFirst(5)
                    if value.first == 0x20 { value = value.dropFirst() }
                    if first == nil {
                        first = value
                    } else {
                        if joined == nil { joined = Array(first!) }
                        joined! += [0x0A] + value
                    }
                }
                lineStart = i + 1
            }
            i += 1
        }
        return joined.map { $0[...] } ?? first
    }
}
