/// Per-line handling of the stream state machine.
extension ChatStreamTranslator {
    mutating func handleLine(_ line: UnsafeRawBufferPointer, nowNanos: UInt64) throws {
        guard let first = line.first else { return }
        if first == UInt8(ascii: ":") {
            if state == .streaming, nowNanos &- lastPingNanos >= Self.pingIntervalNanos {
                lastPingNanos = nowNanos
                events.ping()
            }
            return
        }
        guard line.count >= 5, line[0] == UInt8(ascii: "d"), line[1] == UInt8(ascii: "a"),
            line[2] == UInt8(ascii: "t"), line[3] == UInt8(ascii: "a"), line[4] == UInt8(ascii: ":")
        else {
            return  // event:, id:, retry: and junk lines carry nothing we need
        }
        var start = 5
        while start < line.count, line[start] == 0x20 { start += 1 }
        let payload = UnsafeRawBufferPointer(rebasing: line[start...])
        if payload.count == 6, payload.elementsEqual("[DONE]".utf8) {
            if finishReason != nil {
                finalize()
            } else {
                throw UpstreamFailure(
                    kind: .badResponse, upstreamStatus: 502,
                    message: "upstream stream ended before completion ([DONE] without a finish_reason)")
            }
            return
        }
        guard let chunk = (try? JSONParser.parse(payload)) ?? Self.parseRepairingUTF8(payload) else {
            skippedLines += 1
            return
        }
        try handleChunk(chunk)
    }

    /// A data line that is JSON except for invalid UTF-8 (a broken upstream encoder) keeps its
    /// content: the bad bytes become U+FFFD, as any lenient reader would show them. Only tried
    /// when the strict parse failed and non-ASCII bytes are present.
    static func parseRepairingUTF8(_ payload: UnsafeRawBufferPointer) -> JSONValue? {
        guard payload.contains(where: { $0 >= 0x80 }) else { return nil }
        let repaired = Array(String(decoding: payload, as: UTF8.self).utf8)
        guard repaired.count != payload.count || !repaired.elementsEqual(payload) else { return nil }
        return try? JSONParser.parse(repaired)
    }

    mutating func handleChunk(_ chunk: JSONValue) throws {
        guard case .object(let object) = chunk else {
            skippedLines += 1
            return
        }
        if let error = object["error"], !error.isNull {
            throw UpstreamErrorParser.failure(errorObject: error)
        }
        if object["object"]?.stringValue == "error" {
            throw UpstreamErrorParser.failure(errorObject: chunk)
        }
        let choice = object["choices"]?.arrayValue?.first
        if choice?["finish_reason"]?.stringValue == "error" {
            throw UpstreamFailure(kind: .serverError, upstreamStatus: 502, message: "upstream finished the stream with an error")
        }
        if state == .waiting {
            state = .streaming
            events.messageStart(id: messageID, model: context.clientModel)
        }
        if let u = Usage(openAI: object["usage"]) { usage = u }
        guard let choice, case .object = choice else { return }
        if finishReason != nil { return }  // repeats after the finish only contribute usage
        if let delta = choice["delta"], case .object(let d) = delta {
            handleReasoning(d)
            if let text = d["content"]?.stringValue, !text.isEmpty { appendText(text) }
            if let text = d["refusal"]?.stringValue, !text.isEmpty {
                refusal = true
                appendText(text)
            }
            if let calls = d["tool_calls"]?.arrayValue {
                for (position, call) in calls.enumerated() { handleToolCall(call, position: position) }
            }
        }
        if let finish = choice["finish_reason"]?.stringValue {
            closeOpenBlock()
            finishReason = finish
            nativeFinishReason = choice["native_finish_reason"]?.stringValue
            matchedStop = choice["stop_reason"]?.stringValue
        }
    }

    // MARK: Text and reasoning

    mutating func appendText(_ text: String) {
        outputBytes += text.utf8.count
        let index: Int
        if case .text(let i) = open {
            index = i
        } else {
            closeOpenBlock()
            index = nextIndex
            nextIndex += 1
            events.textStart(index)
            open = .text(index)
        }
        events.delta(index, kind: .text, text)
    }

    mutating func handleReasoning(_ delta: JSONObject) {
        if let details = delta["reasoning_details"]?.arrayValue, !details.isEmpty {
            for detail in details { handleReasoningDetail(detail) }
            return
        }
        if let text = delta["reasoning"]?.stringValue ?? delta["reasoning_content"]?.stringValue, !text.isEmpty {
            appendThinking(text, detailIndex: nil, foreign: nil)
        }
    }

    mutating func handleReasoningDetail(_ detail: JSONValue) {
        guard case .object(let d) = detail else { return }
        let detailIndex = d["index"]?.intValue
        let anthropic = d["format"]?.stringValue == nil || d["format"]?.stringValue == ReasoningCodec.anthropicFormat
        switch d["type"]?.stringValue {
        case "reasoning.encrypted":
            closeOpenBlock()
            let data = anthropic ? (d["data"]?.stringValue ?? "") : ReasoningCodec.encode(detail)
            events.redactedThinking(nextIndex, data: data)
            nextIndex += 1
        default:
            let text = d["text"]?.stringValue ?? d["summary"]?.stringValue ?? ""
            let foreign: JSONObject? = anthropic ? nil : d
            if !text.isEmpty || !anthropic {
                appendThinking(text, detailIndex: detailIndex, foreign: foreign)
            }
            if anthropic, let signature = d["signature"]?.stringValue, !signature.isEmpty {
                if case .thinking = open {} else { appendThinking("", detailIndex: detailIndex, foreign: nil) }
                if case .thinking(let i, _) = open { events.delta(i, kind: .signature, signature) }
            }
        }
    }

    /// Appends reasoning text to the open thinking block of the same detail index, or opens one.
    /// Foreign-format details are merged and emitted as one codec signature when the block closes.
    mutating func appendThinking(_ text: String, detailIndex: Int64?, foreign: JSONObject?) {
        outputBytes += text.utf8.count
        if case .thinking(let i, let openDetail) = open, openDetail == detailIndex || detailIndex == nil || openDetail == nil {
            if let foreign {
                if foreignReasoning == nil { foreignReasoning = ReasoningDetailAccumulator(foreign) } else { foreignReasoning!.add(foreign) }
            }
            open = .thinking(i, detailIndex: openDetail ?? detailIndex)
            if !text.isEmpty { events.delta(i, kind: .thinking, text) }
            return
        }
        closeOpenBlock()
        let index = nextIndex
        nextIndex += 1
        events.thinkingStart(index)
        open = .thinking(index, detailIndex: detailIndex)
        foreignReasoning = foreign.map(ReasoningDetailAccumulator.init)
        if !text.isEmpty { events.delta(index, kind: .thinking, text) }
    }

    // MARK: Tool calls

    /// Tool calls stream live one at a time: the first call's fragments pass through as they
    /// arrive; a parallel call that starts before the live one's arguments are complete (balanced
    /// JSON, tracked without parsing) is buffered and emitted as soon as the live one completes,
    /// or at the finish. So interleaved fragments of parallel calls are never lost.
    mutating func handleToolCall(_ call: JSONValue, position: Int) {
        let key = call["index"]?.intValue ?? Int64(position)
        let id = call["id"]?.stringValue ?? ""
        let function = call["function"]
        let name = function?["name"]?.stringValue
        let arguments = function?["arguments"]?.stringValue ?? ""
        var slotIndex = slotByKey[key]
        if slotIndex == nil || (!id.isEmpty && slots[slotIndex!].id != id && slots[slotIndex!].name != nil) {
            slots.append(ToolSlot(key: key, id: id.isEmpty ? Identifiers.toolUseID() : id, name: nil))
            slotIndex = slots.count - 1
            slotByKey[key] = slotIndex
        }
        let s = slotIndex!
        if slots[s].name == nil, let name, !name.isEmpty {
            slots[s].name = name
            waiting.append(s)
            promoteWaitingTools()
        }
        if !arguments.isEmpty {
            outputBytes += arguments.utf8.count
            slots[s].balance.scan(arguments)
            if case .tool(let index, let live) = open, live == s {
                events.delta(index, kind: .inputJSON, arguments)
            } else if slots[s].blockIndex == nil {
                slots[s].pendingArguments += arguments
            }
            // A fragment for a call whose block already closed cannot be placed; it is counted.
            else {
                droppedFragments += 1
            }
        }
        promoteWaitingTools()
    }

    /// Starts the next waiting tool call once no live call is still receiving arguments.
    mutating func promoteWaitingTools() {
        while let next = waiting.first {
            if case .tool(_, let live) = open, !slots[live].balance.complete { return }
            waiting.removeFirst()
            startToolBlock(next)
        }
    }

    mutating func startToolBlock(_ s: Int) {
        closeOpenBlock()
        let index = nextIndex
        nextIndex += 1
        slots[s].blockIndex = index
        sawToolUse = true
        events.toolStart(index, id: slots[s].id, name: context.toolNames.original(slots[s].name ?? "unknown_tool"))
        open = .tool(index, slot: s)
        let pending = slots[s].pendingArguments
        if !pending.isEmpty {
            slots[s].pendingArguments = ""
            events.delta(index, kind: .inputJSON, pending)
        }
    }

    // MARK: Blocks and the end

    mutating func closeOpenBlock() {
        switch open {
        case .none: return
        case .text(let i), .tool(let i, _):
            events.blockStop(i)
        case .thinking(let i, _):
            if let foreign = foreignReasoning { events.delta(i, kind: .signature, ReasoningCodec.encode(.object(foreign.object))) }
            foreignReasoning = nil
            events.blockStop(i)
        }
        open = .none
    }

    mutating func finalize() {
        // Calls still waiting, and calls whose name never arrived, get their blocks now: no
        // arguments are lost silently.
        for s in waiting { startToolBlock(s) }
        waiting.removeAll()
        for s in slots.indices where slots[s].blockIndex == nil && !slots[s].pendingArguments.isEmpty {
            startToolBlock(s)
        }
        closeOpenBlock()
        let stop = StopReason.resolve(
            finishReason: finishReason, nativeFinishReason: nativeFinishReason, matchedStop: matchedStop,
            sawToolUse: sawToolUse, refusal: refusal, stopSequences: context.stopSequences)
        events.messageDelta(stopReason: stop.reason, stopSequence: stop.sequence, usage: finalUsage)
        events.messageStop()
        state = .finished
    }
}
