import NIOConcurrencyHelpers
import NIOCore
import SwitchyardWire

/// Relays an Anthropic-native upstream's reply untranslated. A stream is passed through chunk by
/// chunk through a `StreamPump`; one that ends without `message_stop` gets a terminal
/// `event: error`, never a silent truncation. Usage is read from the events for logs and limits.
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
        let pump = StreamPump(initial: Array(first.readableBytesView)) { pump in
            while true {
                do {
                    guard let chunk = try await upstream.next() else {
                        if !watcher.sawMessageStop {
                            watcher.failed = true
                            await pump.push(ErrorEnvelope.sseEvent(type: .api, message: "upstream stream ended before completion"))
                        }
                        return
                    }
                    watcher.observe(chunk)
                    await pump.push(Array(chunk.readableBytesView))
                } catch let failure as UpstreamFailure {
                    watcher.failed = true
                    await pump.push(ErrorEnvelope.sseEvent(type: failure.downstream.type, message: failure.message))
                    return
                } catch {
                    return
                }
            }
        }
        let stream = ReplyStream(next: { await pump.next() }) { outcome in
            if outcome == .abandoned { pump.cancel() }
            upstream.finish(outcome)
            stats.usage = watcher.usage
            if watcher.failed { stats.errorType = "api_error" } else if outcome == .abandoned { stats.errorType = "client_disconnected" }
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

/// Watches passthrough SSE lines for `message_stop` and usage (producer task only, then read
/// once at the end).
final class PassthroughWatcher: @unchecked Sendable {
    private let lock = NIOLock()
    private var splitter = SSELineSplitter(maxLineBytes: 16 << 20)
    private var _sawMessageStop = false
    private var _failed = false
    private var _usage = Usage()

    var sawMessageStop: Bool { lock.withLock { _sawMessageStop } }
    var usage: Usage { lock.withLock { _usage } }
    var failed: Bool {
        get { lock.withLock { _failed } }
        set { lock.withLock { _failed = newValue } }
    }

    func observe(_ chunk: ByteBuffer) {
        lock.withLock {
            chunk.withUnsafeReadableBytes { raw in
                try? splitter.feed(raw) { line in
                    guard line.count > 6, line.starts(with: "data:".utf8) else { return }
                    guard let json = try? JSONParser.parse(UnsafeRawBufferPointer(rebasing: line[5...])) else { return }
                    switch json["type"]?.stringValue {
                    case "message_stop": _sawMessageStop = true
                    case "message_start": if let u = json["message"]?["usage"] { merge(u) }
                    case "message_delta": if let u = json["usage"] { merge(u) }
                    default: break
                    }
                }
            }
        }
    }

    private func merge(_ u: JSONValue) {
        if let v = u["input_tokens"]?.intValue { _usage.inputTokens = Int(v) }
        if let v = u["output_tokens"]?.intValue { _usage.outputTokens = Int(v) }
        if let v = u["cache_read_input_tokens"]?.intValue { _usage.cacheReadInputTokens = Int(v) }
        if let v = u["cache_creation_input_tokens"]?.intValue { _usage.cacheCreationInputTokens = Int(v) }
    }
}
