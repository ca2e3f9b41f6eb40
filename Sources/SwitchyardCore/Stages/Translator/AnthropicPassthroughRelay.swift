import NIOCore
import SwitchyardWire

/// Relays an Anthropic-native upstream's reply untranslated. A stream is passed through chunk by
/// chunk; one that ends without `message_stop` gets a terminal `event: error`, never a silent
/// truncation. Usage is read from the events for logs and limits.
enum AnthropicPassthroughRelay {
    static func start(raw: Reply, stats: CallStats, target: String) async throws -> Reply {
        guard case .stream(let upstream) = raw.body else { throw GatewayError.internalError("transport returned no stream") }
        // Hold the status until the first bytes arrive, so an immediate failure is a real HTTP error.
        let first: ByteBuffer?
        do {
            first = try await upstream.next()
        } catch let failure as UpstreamFailure {
            upstream.finish(.abandoned)
            throw GatewayError.upstream(failure, target: target)
        }
        guard let first else {
            upstream.finish(.completed)
            throw GatewayError.upstream(UpstreamFailure(kind: .badResponse, upstreamStatus: 200, message: "upstream stream ended before any data"), target: target)
        }
        stats.stream = true
        let watcher = PassthroughWatcher()
        watcher.observe(first)
        let box = FirstChunkBox(first)
        let stream = ReplyStream(next: {
            if let chunk = box.take() { return chunk }
            if watcher.ended { return nil }
            do {
                if let chunk = try await upstream.next() {
                    watcher.observe(chunk)
                    return chunk
                }
                guard watcher.sawMessageStop else {
                    watcher.ended = true
                    return ByteBuffer(bytes: ErrorEnvelope.sseEvent(type: .api, message: "upstream stream ended before completion"))
                }
                return nil
            } catch let failure as UpstreamFailure {
                watcher.ended = true
                let mapped = failure.downstream
                return ByteBuffer(bytes: ErrorEnvelope.sseEvent(type: mapped.type, message: failure.message))
            }
        }) { outcome in
            upstream.finish(outcome)
            stats.usage = watcher.usage
        }
        return Reply(status: 200, headers: SSEHeaders.all, body: .stream(stream))
    }

    static func usage(inMessage body: [UInt8]) -> Usage? {
        guard let json = try? JSONParser.parse(body), let u = json["usage"] else { return nil }
        return Usage(
            inputTokens: Int(u["input_tokens"]?.intValue ?? 0), outputTokens: Int(u["output_tokens"]?.intValue ?? 0),
            cacheReadInputTokens: Int(u["cache_read_input_tokens"]?.intValue ?? 0),
            cacheCreationInputTokens: Int(u["cache_creation_input_tokens"]?.intValue ?? 0))
    }
}

/// Holds the first chunk until the server pulls it.
final class FirstChunkBox: @unchecked Sendable {
    private var chunk: ByteBuffer?
    init(_ chunk: ByteBuffer) { self.chunk = chunk }
    func take() -> ByteBuffer? {
        defer { chunk = nil }
        return chunk
    }
}

/// Watches passthrough SSE lines for `message_stop` and usage.
final class PassthroughWatcher: @unchecked Sendable {
    private var splitter = SSELineSplitter(maxLineBytes: 16 << 20)
    var sawMessageStop = false
    var ended = false
    var usage = Usage()

    func observe(_ chunk: ByteBuffer) {
        chunk.withUnsafeReadableBytes { raw in
            try? splitter.feed(raw) { line in
                guard line.count > 6, line.starts(with: "data:".utf8) else { return }
                guard let json = try? JSONParser.parse(UnsafeRawBufferPointer(rebasing: line[5...])) else { return }
                switch json["type"]?.stringValue {
                case "message_stop": sawMessageStop = true
                case "message_start":
                    if let u = json["message"]?["usage"] { merge(u) }
                case "message_delta":
                    if let u = json["usage"] { merge(u) }
                default: break
                }
            }
        }
    }

    private func merge(_ u: JSONValue) {
        if let v = u["input_tokens"]?.intValue { usage.inputTokens = Int(v) }
        if let v = u["output_tokens"]?.intValue { usage.outputTokens = Int(v) }
        if let v = u["cache_read_input_tokens"]?.intValue { usage.cacheReadInputTokens = Int(v) }
        if let v = u["cache_creation_input_tokens"]?.intValue { usage.cacheCreationInputTokens = Int(v) }
    }
}
