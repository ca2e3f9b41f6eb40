import NIOConcurrencyHelpers
import NIOCore
import SwitchyardWire

/// Relays an Anthropic-native upstream's reply untranslated. A stream is passed through chunk by
/// chunk (`PassthroughProducer`, by callback) into a `StreamPump`; one that ends without
/// `message_stop` gets a terminal `event: error`, never a silent truncation. Usage is read from
/// the events for logs and limits.
enum AnthropicPassthroughRelay {
    /// How much of an upstream stream may be read looking for its first event.
    static let maxPreambleBytes = 1 << 20

    static func start(
        raw: Reply, stats: CallStats, target: String, secrets: [String], idleTimeoutNanos: UInt64, streams: StreamRegistry?,
        eventLoop: any EventLoop
    ) async throws -> Reply {
        guard case .stream(let upstream) = raw.body else { throw GatewayError.internalError("transport returned no stream") }
        // Hold the status until the first event is known good, so a failure is a real HTTP error.
        let preamble: [UInt8]
        do {
            preamble = try await readFirstEvent(upstream)
        } catch let failure as UpstreamFailure {
            upstream.finish(.abandoned)
            throw GatewayError.upstream(failure.redacting(secrets), target: target)
        } catch {
            upstream.finish(.abandoned)
            throw error
        }
        stats.stream = true
        let watcher = PassthroughWatcher()
        watcher.observe(ByteBuffer(bytes: preamble))
        // Every relayed byte is scrubbed, the first event included, across chunk boundaries, and
        // relayed event by event, so a cut never leaves half an event before the error event.
        var firstScrubber = SecretScrubber(secrets: secrets)
        var firstFramer = SSEEventFramer()
        let initial = firstFramer.complete(firstScrubber.scrub(preamble))
        let pump = StreamPump(initial: initial, eventLoop: eventLoop, idleTimeoutNanos: idleTimeoutNanos, registry: streams)
        pump.onStop { upstream.finish(.abandoned) }
        upstream.deliver(to: PassthroughProducer(scrubber: firstScrubber, framer: firstFramer, watcher: watcher, pump: pump, secrets: secrets))
        let stream = ReplyStream(source: pump) { outcome in
            if outcome == .abandoned { pump.cancel() }
            upstream.finish(outcome)
            stats.usage = watcher.usage
            if let aborted = pump.abortedWith {
                stats.errorType = aborted.rawValue
            } else if watcher.failed {
                stats.errorType = "api_error"
            } else if outcome == .abandoned {
                stats.errorType = "client_disconnected"
            }
        }
        return Reply(status: 200, headers: SSEHeaders.all, body: .stream(stream))
    }

    /// Reads until the first `data:` line; returns the bytes read when it is a message_start.
    static func readFirstEvent(_ upstream: ReplyStream) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        var splitter = SSELineSplitter(maxLineBytes: maxPreambleBytes)
        var verdict: Result<Void, UpstreamFailure>? = nil
        while verdict == nil {
            guard let chunk = try await upstream.next() else {
                throw UpstreamFailure(kind: .badResponse, upstreamStatus: 200, message: "upstream stream ended before any event")
            }
            bytes.append(contentsOf: chunk.readableBytesView)
            if bytes.count > maxPreambleBytes {
                throw UpstreamFailure(kind: .badResponse, upstreamStatus: 200, message: "upstream sent no Messages event")
            }
            chunk.withUnsafeReadableBytes { raw in
                try? splitter.feed(raw) { line in
                    guard verdict == nil, line.starts(with: "data:".utf8) else { return }
                    verdict = classifyFirstEvent(UnsafeRawBufferPointer(rebasing: line[5...]))
                }
            }
        }
        if case .failure(let failure) = verdict { throw failure }
        return bytes
    }

    static func classifyFirstEvent(_ payload: UnsafeRawBufferPointer) -> Result<Void, UpstreamFailure> {
        guard let json = try? JSONParser.parse(UnsafeRawBufferPointer(rebasing: payload.drop { $0 == 0x20 })) else {
            return .failure(UpstreamFailure(kind: .badResponse, upstreamStatus: 200, message: "upstream sent an unreadable event"))
        }
        switch json["type"]?.stringValue {
        case "message_start": return .success(())
        case "error": return .failure(UpstreamErrorParser.anthropicFailure(json["error"] ?? json))
        default:
            if let e = json["error"] { return .failure(UpstreamErrorParser.anthropicFailure(e)) }
            return .failure(UpstreamFailure(kind: .badResponse, upstreamStatus: 200, message: "upstream stream did not start with message_start"))
        }
    }

    /// Checks a non-streamed Anthropic answer is a message (not an error or junk in a 200) and
    /// returns its usage.
    static func checkMessage(_ body: [UInt8]) throws(UpstreamFailure) -> Usage? {
        guard let json = try? JSONParser.parse(body) else {
            throw UpstreamFailure(kind: .badResponse, upstreamStatus: 200, message: "upstream sent an unreadable response")
        }
        if json["type"]?.stringValue == "error" || json["error"] != nil {
            throw UpstreamErrorParser.anthropicFailure(json["error"] ?? json)
        }
        guard json["type"]?.stringValue == "message" else {
            throw UpstreamFailure(kind: .badResponse, upstreamStatus: 200, message: "upstream response is not a message")
        }
        guard let u = json["usage"] else { return nil }
        var usage = Usage()
        usage.merge(anthropic: u)
        return usage
    }
}

/// Relays the upstream's parts after the first event as they are delivered: scrubbed across
/// chunk boundaries, cut at event boundaries (so a failure never leaves half an event before the
/// error event), watched for usage and the end.
///
/// `@unchecked Sendable`: the scrubber and framer are mutable without a lock. They are safe
/// because a source delivers one call at a time, in order (`StreamConsumer`), and nothing else
/// touches them.
final class PassthroughProducer: StreamConsumer, @unchecked Sendable {
    private var scrubber: SecretScrubber
    private var framer: SSEEventFramer
    private let watcher: PassthroughWatcher
    private let pump: StreamPump
    private let secrets: [String]
    private var done = false

    init(scrubber: SecretScrubber, framer: SSEEventFramer, watcher: PassthroughWatcher, pump: StreamPump, secrets: [String]) {
        self.scrubber = scrubber
        self.framer = framer
        self.watcher = watcher
        self.pump = pump
        self.secrets = secrets
    }

    func receive(_ chunk: ByteBuffer) -> EventLoopFuture<Void>? {
        guard !done else { return nil }
        pump.upstreamActivity()
        watcher.observe(chunk)
        let safe = framer.complete(scrubber.scrub(Array(chunk.readableBytesView)))
        return safe.isEmpty ? nil : pump.push(safe)
    }

    func finished(_ error: (any Error)?) {
        guard !done else { return }
        done = true
        switch error {
        case nil:
            let last = framer.complete(scrubber.finish())
            if !last.isEmpty { pump.push(last) }
            if watcher.sawMessageStop || watcher.sawError {
                let rest = framer.finish()  // an unterminated last event, relayed as sent
                if !rest.isEmpty { pump.push(rest) }
            } else {
                framer.discard()
            }
            if watcher.sawError {
                watcher.failed = true  // the upstream's own error event ended it
            } else if !watcher.sawMessageStop {
                watcher.failed = true
                pump.pushFinal(ErrorEnvelope.sseEvent(type: .api, message: "upstream stream ended before completion"))
            }
        case is CancellationError:
            break  // the gateway stopped the upstream: the pump is already closed
        case let failure as UpstreamFailure:
            watcher.failed = true
            framer.discard()
            let f = failure.afterCommit.redacting(secrets)
            pump.pushFinal(ErrorEnvelope.sseEvent(type: f.downstream.type, message: f.message))
        default:
            watcher.failed = true
            framer.discard()
            pump.pushFinal(ErrorEnvelope.sseEvent(type: .api, message: "upstream connection failed mid-stream"))
        }
        pump.close()
    }
}

/// Watches passthrough SSE lines for `message_stop` and usage (producer task only, then read
/// once at the end).
///
/// `@unchecked Sendable`: its state (including the line splitter) is private and used only under
/// `lock`.
final class PassthroughWatcher: @unchecked Sendable {
    private let lock = NIOLock()
    private var splitter = SSELineSplitter(maxLineBytes: 16 << 20)
    private var _sawMessageStop = false
    private var _sawError = false
    private var _failed = false
    private var _usage = Usage()
    private var _sawFinalUsage = false

    var sawMessageStop: Bool { lock.withLock { _sawMessageStop } }
    /// The upstream sent its own `error` event (a terminal one).
    var sawError: Bool { lock.withLock { _sawError } }
    /// The usage seen; marked estimated while the final `message_delta` usage has not come (a
    /// stream the client abandoned carries message_start's placeholder output count).
    var usage: Usage {
        lock.withLock {
            var u = _usage
            u.estimated = !_sawFinalUsage
            return u
        }
    }
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
                    case "error": _sawError = true
                    case "message_start": if let u = json["message"]?["usage"] { _usage.merge(anthropic: u) }
                    case "message_delta":
                        if let u = json["usage"] {
                            _usage.merge(anthropic: u)
                            _sawFinalUsage = true
                        }
                    default: break
                    }
                }
            }
        }
    }
}
