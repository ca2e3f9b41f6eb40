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
/// (failures before that are thrown for the mapper to fall back), then has the rest of the body
/// delivered to a `TranslatingProducer`, which translates each upstream part as it arrives into a
/// `StreamPump`. With `secrets`, every byte out is scrubbed (translators that scrub their own text
/// pass none).
enum TranslatingStreamRelay {
    static func start<T: RelayedStreamTranslator>(
        raw: Reply, translator initial: T, stats: CallStats, target: String, idleTimeoutNanos: UInt64,
        secrets: [String] = [], streams: StreamRegistry?, inbound: InboundProtocol, eventLoop: any EventLoop
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
        let pump = StreamPump(initial: first, eventLoop: eventLoop, idleTimeoutNanos: idleTimeoutNanos, registry: streams, inbound: inbound)
        if translator.isFinished {
            pump.close()  // the producer only reads the rest of the body to its end
        } else {
            pump.onStop { upstream.finish(.abandoned) }
        }
        upstream.deliver(to: TranslatingProducer(translator: translator, scrubber: scrubber, pump: pump, result: result))
        let stream = ReplyStream(source: pump) { outcome in
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
        }
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

/// Translates the upstream's parts after the commit point as they are delivered, into the pump:
/// failures from here on become the translator's own terminal error event. Once the translator
/// has finished, the rest of the upstream body is read and dropped (the connection goes back to
/// the pool).
///
/// `@unchecked Sendable`: the translator and scrubber are mutable without a lock. They are safe
/// because a source delivers one call at a time, in order (`StreamConsumer`), and nothing else
/// touches them.
final class TranslatingProducer<T: RelayedStreamTranslator>: StreamConsumer, @unchecked Sendable {
    private var translator: T
    private var scrubber: SecretScrubber?
    private let pump: StreamPump
    private let result: RelayResult

    init(translator: T, scrubber: SecretScrubber?, pump: StreamPump, result: RelayResult) {
        self.translator = translator
        self.scrubber = scrubber
        self.pump = pump
        self.result = result
    }

    func receive(_ bytes: ByteBuffer) -> EventLoopFuture<Void>? {
        guard !translator.isFinished else { return nil }
        pump.upstreamActivity()
        try? TranslatingStreamRelay.feed(&translator, bytes)  // after commit, failures become error events
        return emit()
    }

    func finished(_ error: (any Error)?) {
        guard !translator.isFinished else { return }
        switch error {
        case nil:
            try? translator.finishInput()
        case is CancellationError:
            // The gateway stopped the upstream (client gone, abort): the pump is already closed.
            pump.close()
            return
        case let failure as UpstreamFailure:
            try? translator.fail(failure.afterCommit)
        default:
            try? translator.fail(UpstreamFailure(kind: .badResponse, message: "upstream connection failed mid-stream"))
        }
        _ = emit()
        pump.close()
    }

    private func emit() -> EventLoopFuture<Void>? {
        result.update(usage: translator.finalUsage, failure: translator.failure, complete: translator.completed)
        let out = TranslatingStreamRelay.scrub(translator.takeOutput(), &scrubber, final: translator.isFinished)
        if translator.isFinished {
            pump.pushFinal(out)
            return nil
        }
        return pump.push(out)
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
