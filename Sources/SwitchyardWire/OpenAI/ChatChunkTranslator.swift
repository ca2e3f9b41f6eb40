/// The reverse stream state machine (translation-spec §7): fed an Anthropic Messages SSE stream in
/// whatever pieces it arrives, it produces Chat Completions chunks (`data: {chunk}\n\n`, then
/// `data: [DONE]\n\n`). No I/O inside.
///
/// Commit point: `message_start`. Before it, an error event or junk is thrown as an
/// `UpstreamFailure` (the caller answers with a real HTTP status or falls back). After it, a
/// failure is written as `data: {"error":…}` and the stream ends, without `[DONE]` and without an
/// invented `finish_reason`. Tool-argument fragments are relayed verbatim.
public struct ChatChunkTranslator: Sendable {
    public enum State: Equatable, Sendable { case waiting, streaming, finished, failed }

    let context: ChatReplyContext
    var splitter: SSELineSplitter
    var output: [UInt8] = []
    public private(set) var state: State = .waiting
    var completionID = ""
    /// The index of the tool_use block being streamed, by Anthropic block index.
    var toolIndexByBlock: [Int: Int] = [:]
    var toolCount = 0
    var usage = Usage()
    var sawUsage = false
    var outputBytes = 0
    /// The failure that ended a committed stream, for logs.
    public private(set) var failure: UpstreamFailure?

    public init(context: ChatReplyContext, maxLineBytes: Int = 16 << 20) {
        self.context = context
        splitter = SSELineSplitter(maxLineBytes: maxLineBytes)
    }

    public var committed: Bool { state != .waiting }
    public var isFinished: Bool { state == .finished || state == .failed }

    /// Takes the bytes produced so far.
    public mutating func takeOutput() -> [UInt8] {
        defer { output.removeAll(keepingCapacity: true) }
        return output
    }

    /// The usage reported, or the estimate when the upstream reported none.
    public var finalUsage: Usage {
        sawUsage ? usage : Usage.estimate(inputTokens: context.estimatedInputTokens, outputTokens: (outputBytes + 3) / 4)
    }

    /// Feeds upstream bytes. Throws only before commit.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) throws(UpstreamFailure) {
        guard !isFinished else { return }
        var lines = splitter
        defer { splitter = lines }
        do {
            try lines.feed(bytes) { line in try self.handleLine(line) }
        } catch let failure as UpstreamFailure {
            try fail(failure)
        } catch {
            try fail(UpstreamFailure(kind: .badResponse, upstreamStatus: 200, message: "upstream sent an SSE line longer than \(splitter.maxLineBytes) bytes"))
        }
    }

    public mutating func feed(_ bytes: [UInt8]) throws(UpstreamFailure) {
        var failure: UpstreamFailure?
        bytes.withUnsafeBytes { raw in
            do throws(UpstreamFailure) { try self.feed(raw) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// The upstream body ended: without `message_stop` that is a failure.
    public mutating func finishInput() throws(UpstreamFailure) {
        guard !isFinished else { return }
        if let last = splitter.flush(), !last.isEmpty {
            do { try last.withUnsafeBytes { try handleLine($0) } } catch let failure as UpstreamFailure { try fail(failure) } catch {}
            if isFinished { return }
        }
        try fail(
            UpstreamFailure(
                kind: .badResponse, upstreamStatus: committed ? 502 : 200,
                message: committed ? "upstream stream ended before completion" : "upstream stream ended before any event"))
    }

    /// Ends the stream because of a failure; before commit it is thrown back.
    public mutating func fail(_ failure: UpstreamFailure) throws(UpstreamFailure) {
        guard !isFinished else { return }
        state = .failed
        self.failure = failure
        guard committed else { throw failure }
        output += OpenAIErrorEnvelope.sseEvent(type: failure.downstream.type, message: failure.message, code: OpenAIErrorEnvelope.code(for: failure))
    }

    mutating func handleLine(_ line: UnsafeRawBufferPointer) throws {
        guard line.count > 5, line.starts(with: "data:".utf8) else { return }
        guard let event = try? JSONParser.parse(UnsafeRawBufferPointer(rebasing: line[5...])) else {
            if !committed { throw UpstreamFailure(kind: .badResponse, upstreamStatus: 200, message: "upstream sent an unreadable event") }
            return
        }
        switch event["type"]?.stringValue {
        case "message_start":
            guard !committed else { return }
            state = .streaming
            completionID = ChatChunks.completionID(event["message"]?["id"]?.stringValue)
            if let u = event["message"]?["usage"] { usage.merge(anthropic: u) }
            chunk(delta: ["role": .string("assistant"), "content": .string("")])
        case "error":
            try fail(UpstreamErrorParser.anthropicFailure(event["error"] ?? event).afterCommitIf(committed))
        case _ where !committed:
            throw UpstreamFailure(kind: .badResponse, upstreamStatus: 200, message: "upstream stream did not start with message_start")
        case "content_block_start":
            guard let block = event["content_block"], block["type"]?.stringValue == "tool_use" else { return }
            let k = toolCount
            toolCount += 1
            toolIndexByBlock[Int(event["index"]?.intValue ?? -1)] = k
            chunk(delta: [
                "tool_calls": .array([
                    .object([
                        "index": .int(Int64(k)), "id": .string(block["id"]?.stringValue ?? ""), "type": .string("function"),
                        "function": .object(["name": .string(block["name"]?.stringValue ?? ""), "arguments": .string("")]),
                    ])
                ])
            ])
        case "content_block_delta":
            delta(event)
        case "message_delta":
            if let u = event["usage"] {
                usage.merge(anthropic: u)
                sawUsage = true
            }
            chunk(delta: JSONObject(), finishReason: ChatChunks.finishReason(event["delta"]?["stop_reason"]?.stringValue))
        case "message_stop":
            if context.includeUsage {
                var o = header()
                o.append("choices", .array([]))
                o.append("usage", finalUsage.openAIJSON)
                write(o)
            }
            output += Array("data: [DONE]\n\n".utf8)
            state = .finished
        default:
            break  // ping, content_block_stop, unknown events
        }
    }

    mutating func delta(_ event: JSONValue) {
        guard let d = event["delta"] else { return }
        switch d["type"]?.stringValue {
        case "text_delta":
            guard let text = d["text"]?.stringValue, !text.isEmpty else { return }
            outputBytes = outputBytes.addingSaturated(text.utf8.count)
            chunk(delta: ["content": .string(text)])
        case "thinking_delta":
            guard context.reasoningContent, let text = d["thinking"]?.stringValue, !text.isEmpty else { return }
            chunk(delta: ["reasoning_content": .string(text)])
        case "input_json_delta":
            guard let partial = d["partial_json"]?.stringValue, !partial.isEmpty,
                let k = toolIndexByBlock[Int(event["index"]?.intValue ?? -1)]
            else { return }
            outputBytes = outputBytes.addingSaturated(partial.utf8.count)
            chunk(delta: ["tool_calls": .array([.object(["index": .int(Int64(k)), "function": .object(["arguments": .string(partial)])])])])
        default:
            break  // signature_delta and anything newer
        }
    }

    func header() -> JSONObject {
        [
            "id": .string(completionID), "object": .string("chat.completion.chunk"), "created": .int(context.created),
            "model": .string(context.clientModel),
        ]
    }

    mutating func chunk(delta: JSONObject, finishReason: String? = nil) {
        var o = header()
        o.append(
            "choices",
            .array([
                .object([
                    "index": .int(0), "delta": .object(delta), "finish_reason": finishReason.map { .string($0) } ?? .null,
                ])
            ]))
        write(o)
    }

    mutating func write(_ o: JSONObject) {
        var w = JSONWriter(capacity: 192)
        w.appendRaw("data: ")
        w.write(o)
        w.appendRaw("\n\n")
        output += w.bytes
    }
}

extension UpstreamFailure {
    /// `afterCommit` once the client has its 200, else the failure unchanged.
    func afterCommitIf(_ committed: Bool) -> UpstreamFailure {
        committed ? afterCommit : self
    }
}
