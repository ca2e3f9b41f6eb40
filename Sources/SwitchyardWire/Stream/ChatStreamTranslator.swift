/// The streaming state machine (translation-spec §4.3): fed OpenAI Chat Completions SSE bytes in
/// whatever pieces they arrive, it produces Anthropic SSE events. No I/O inside.
///
/// Commit point: nothing is produced until the first data chunk that is not an error, so a
/// failure before it is thrown as an `UpstreamFailure` (the caller answers with a real HTTP
/// status or falls back). After commit, failures are written as a terminal `event: error` and
/// the translator is finished. Tool-argument fragments are passed through verbatim, never parsed.
/// Junk data lines are skipped; a stream that ends without a finish_reason is an error, never a
/// fabricated `end_turn`.
public struct ChatStreamTranslator: Sendable {
    public enum State: Equatable, Sendable { case waiting, streaming, finished, failed }

    enum OpenBlock {
        case none
        case text(Int)
        case thinking(Int, detailIndex: Int64?)
        case tool(Int, slot: Int)
    }

    struct ToolSlot {
        var key: Int64
        var id: String
        var name: String?
        var blockIndex: Int?
        var pendingArguments: String = ""
        var balance = JSONBalance()
    }

    let context: ResponseContext
    let messageID: String
    var events = AnthropicEventWriter()
    var splitter: SSELineSplitter
    public internal(set) var state: State = .waiting
    var open: OpenBlock = .none
    /// The non-Anthropic reasoning detail of the open thinking block, emitted whole as one codec
    /// signature when the block closes (kept outside `open` so appending never copies it).
    var foreignReasoning: ReasoningDetailAccumulator?
    var nextIndex = 0
    var slots: [ToolSlot] = []
    var slotByKey: [Int64: Int] = [:]
    /// Named tool calls whose block has not started (a parallel call waiting for the live one).
    var waiting: [Int] = []
    /// Argument fragments that arrived for an already closed tool block.
    public internal(set) var droppedFragments = 0
    var sawToolUse = false
    var refusal = false
    var finishReason: String?
    var nativeFinishReason: String?
    var matchedStop: String?
    public internal(set) var usage: Usage?
    var outputBytes = 0
    var lastPingNanos: UInt64 = 0
    /// Data lines that were not JSON and were skipped.
    public internal(set) var skippedLines = 0
    /// The failure that ended a committed stream, for logs.
    public internal(set) var failure: UpstreamFailure?

    public static let pingIntervalNanos: UInt64 = 5_000_000_000

    public init(context: ResponseContext, messageID: String = Identifiers.messageID(), maxLineBytes: Int = 16 << 20) {
        self.context = context
        self.messageID = messageID
        self.splitter = SSELineSplitter(maxLineBytes: maxLineBytes)
        if !context.redactions.isEmpty { events.scrubber = SecretScrubber(secrets: context.redactions) }
    }

    /// True once message_start went out: the client has a 200 and errors are SSE events.
    public var committed: Bool { state != .waiting }
    public var isFinished: Bool { state == .finished || state == .failed }

    /// Takes the bytes produced so far.
    public mutating func takeOutput() -> [UInt8] {
        let out = events.bytes
        events.bytes.removeAll(keepingCapacity: true)
        return out
    }

    public var hasOutput: Bool { !events.bytes.isEmpty }

    /// Feeds upstream bytes. Throws only before commit.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, nowNanos: UInt64 = 0) throws(UpstreamFailure) {
        guard !isFinished else { return }
        var lines = splitter
        defer { splitter = lines }
        do {
            try lines.feed(bytes) { line in
                try self.handleLine(line, nowNanos: nowNanos)
            }
        } catch let failure as UpstreamFailure {
            try fail(failure)
        } catch {
            try fail(UpstreamFailure(kind: .badResponse, upstreamStatus: 200, message: "upstream sent an SSE line longer than \(splitter.maxLineBytes) bytes"))
        }
    }

    public mutating func feed(_ bytes: [UInt8], nowNanos: UInt64 = 0) throws(UpstreamFailure) {
        var failure: UpstreamFailure?
        bytes.withUnsafeBytes { raw in
            do throws(UpstreamFailure) { try self.feed(raw, nowNanos: nowNanos) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// The upstream body ended. Finalizes after a finish_reason, else fails.
    public mutating func finishInput() throws(UpstreamFailure) {
        guard !isFinished else { return }
        if let last = splitter.flush(), !last.isEmpty {
            do {
                try last.withUnsafeBytes { try handleLine($0, nowNanos: 0) }
            } catch let failure as UpstreamFailure {
                try fail(failure)
            } catch {}
            if isFinished { return }
        }
        if finishReason != nil {
            finalize()
        } else if committed {
            try fail(UpstreamFailure(kind: .badResponse, upstreamStatus: 502, message: "upstream stream ended before completion"))
        } else {
            try fail(UpstreamFailure(kind: .badResponse, upstreamStatus: 200, message: "upstream stream ended before any data"))
        }
    }

    /// Ends the stream because of a failure outside the byte stream (timeout, reset, shutdown).
    /// Before commit the failure is thrown back for an HTTP answer.
    public mutating func fail(_ failure: UpstreamFailure) throws(UpstreamFailure) {
        guard !isFinished else { return }
        let failure = failure.redacting(context.redactions)
        guard committed else {
            state = .failed
            self.failure = failure
            throw failure
        }
        let mapped = failure.downstream
        events.error(type: mapped.type, message: failure.message)
        state = .failed
        self.failure = failure
    }

    /// The usage reported or estimated at the end, for logs and limits.
    public var finalUsage: Usage {
        usage ?? Usage.estimate(inputTokens: context.estimatedInputTokens, outputTokens: (outputBytes + 3) / 4)
    }
}
