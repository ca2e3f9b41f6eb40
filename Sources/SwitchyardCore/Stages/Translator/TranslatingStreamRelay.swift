import NIOConcurrencyHelpers
import NIOCore
import SwitchyardWire

/// A pure stream state machine the relay can drive: fed upstream bytes, it produces the client's
/// bytes; it throws only before its commit point, after which failures become its own terminal
/// error event.
protocol RelayedStreamTranslator: Sendable {
    var committed: Bool { get }
    var isFinished: Bool { get }
    /// Finished normally (not failed).
    var completed: Bool { get }
    var finalUsage: Usage { get }
    var failure: UpstreamFailure? { get }
    mutating func feed(_ bytes: UnsafeRawBufferPointer, nowNanos: UInt64) throws(UpstreamFailure)
    mutating func finishInput() throws(UpstreamFailure)
    mutating func fail(_ failure: UpstreamFailure) throws(UpstreamFailure)
    mutating func takeOutput() -> [UInt8]
}

extension ChatStreamTranslator: RelayedStreamTranslator {
    var completed: Bool { state == .finished }
}

extension ChatChunkTranslator: RelayedStreamTranslator {
    var completed: Bool { state == .finished }
    mutating func feed(_ bytes: UnsafeRawBufferPointer, nowNanos: UInt64) throws(UpstreamFailure) { try feed(bytes) }
}

extension ChatChunkFilter: RelayedStreamTranslator {
    var completed: Bool { isFinished && failure == nil }
    mutating func feed(_ bytes: UnsafeRawBufferPointer, nowNanos: UInt64) throws(UpstreamFailure) { try feed(Array(bytes)) }
}

/// Drives a stream translator over an upstream SSE body: reads until the translator commits
/// (failures before that are thrown for the mapper to fall back), then hands the rest to a
/// `StreamPump` whose producer translates each upstream chunk as it arrives. With `secrets`, every
/// byte out is scrubbed (translators that scrub their own text pass none).
enum TranslatingStreamRelay {
    static func start<T: RelayedStreamTranslator>(
        raw: Reply, translator initial: T, stats: CallStats, target: String, idleTimeoutNanos: UInt64,
        secrets: [String] = [], streams: StreamRegistry?, inbound: InboundProtocol
    ) async throws -> Reply {
        guard case .stream(let upstream) = raw.body else { throw GatewayError.internalError("transport returned no stream") }
        var translator = initial
        do {
            try await fillUntilCommitted(&translator, upstream: upstream)
        } catch let failure as UpstreamFailure {
            upstream.finish(.abandoned)
            throw GatewayError.upstream(failure.redacting(secrets), target: target)
        } catch {
            upstream.finish(.abandoned)
            throw error
        }
        stats.stream = true
        let result = RelayResult(usage: translator.finalUsage)
        var scrubber = secrets.isEmpty ? nil : SecretScrubber(secrets: secrets)
        let first = scrub(translator.takeOutput(), &scrubber, final: translator.isFinished)
        let pump = StreamPump(initial: first, idleTimeoutNanos: idleTimeoutNanos, registry: streams, inbound: inbound) { [translator, scrubber] pump in
            var translator = translator
            var scrubber = scrubber
            await relay(&translator, scrubber: &scrubber, upstream: upstream, pump: pump, result: result)
        }
        let stream = ReplyStream(
            next: { await pump.next() },
            onFinish: { outcome in
                if outcome == .abandoned { pump.cancel() }
                upstream.finish(outcome)
                let final = result.snapshot()
                stats.usage = final.usage
                if let aborted = pump.abortedWith {
                    stats.errorType = aborted.rawValue
                } else if let failure = final.failure {
                    stats.errorType = failure.downstream.type.rawValue
                } else if outcome == .abandoned || !final.complete {
                    stats.errorType = stats.errorType ?? "client_disconnected"
                }
            })
        return Reply(status: 200, headers: SSEHeaders.all, body: .stream(stream))
    }

    /// Reads until the translator has committed, or throws.
    static func fillUntilCommitted<T: RelayedStreamTranslator>(_ translator: inout T, upstream: ReplyStream) async throws {
        while !translator.committed {
            guard let chunk = try await upstream.next() else {
                try translator.finishInput()
                break
            }
            try feed(&translator, chunk)
        }
    }

    /// The producer: upstream chunks in, translated events out, until the translator finishes.
    static func relay<T: RelayedStreamTranslator>(
        _ translator: inout T, scrubber: inout SecretScrubber?, upstream: ReplyStream,
        pump: StreamPump, result: RelayResult
    ) async {
        while !translator.isFinished {
            do {
                if let chunk = try await upstream.next() {
                    pump.upstreamActivity()
                    try? feed(&translator, chunk)  // after commit, failures become error events
                } else {
                    try? translator.finishInput()
                }
            } catch let failure as UpstreamFailure {
                try? translator.fail(failure.afterCommit)
            } catch {
                if Task.isCancelled { break }
                try? translator.fail(UpstreamFailure(kind: .badResponse, message: "upstream connection failed mid-stream"))
            }
            result.update(usage: translator.finalUsage, failure: translator.failure, complete: translator.completed)
            let out = scrub(translator.takeOutput(), &scrubber, final: translator.isFinished)
            if translator.isFinished {
                pump.pushFinal(out)
            } else {
                await pump.push(out)
            }
        }
    }

    static func scrub(_ bytes: [UInt8], _ scrubber: inout SecretScrubber?, final: Bool) -> [UInt8] {
        guard scrubber != nil else { return bytes }
        var out = scrubber!.scrub(bytes)
        if final { out += scrubber!.finish() }
        return out
    }

    static func feed<T: RelayedStreamTranslator>(_ translator: inout T, _ chunk: ByteBuffer) throws(UpstreamFailure) {
        var failure: UpstreamFailure?
        let now = MonotonicClock.nanos()
        chunk.withUnsafeReadableBytes { raw in
            do throws(UpstreamFailure) { try translator.feed(raw, nowNanos: now) } catch { failure = error }
        }
        if let failure { throw failure }
    }
}

/// What the producer learned, read when the reply ends (for the access log and limits).
final class RelayResult: Sendable {
    private let box: NIOLockedValueBox<(usage: Usage, failure: UpstreamFailure?, complete: Bool)>

    init(usage: Usage) {
        box = NIOLockedValueBox((usage, nil, false))
    }

    func update(usage: Usage, failure: UpstreamFailure?, complete: Bool) {
        box.withLockedValue { $0 = (usage, failure, complete) }
    }

    func snapshot() -> (usage: Usage, failure: UpstreamFailure?, complete: Bool) {
        box.withLockedValue { $0 }
    }
}
