import NIOConcurrencyHelpers
import NIOCore
import SwitchyardWire

/// Drives a `ChatStreamTranslator` over an upstream SSE body: reads until the first Anthropic
/// event is ready (failures before that are thrown for the mapper to fall back), then hands the
/// rest to a `StreamPump` whose producer translates each upstream chunk as it arrives.
enum ChatStreamRelay {
    static func start(raw: Reply, context: ResponseContext, stats: CallStats, target: String, idleTimeoutNanos: UInt64) async throws -> Reply {
        guard case .stream(let upstream) = raw.body else { throw GatewayError.internalError("transport returned no stream") }
        var translator = ChatStreamTranslator(context: context)
        do {
            try await fillUntilCommitted(&translator, upstream: upstream)
        } catch let failure as UpstreamFailure {
            upstream.finish(.abandoned)
            throw GatewayError.upstream(failure, target: target)
        } catch {
            upstream.finish(.abandoned)
            throw error
        }
        stats.stream = true
        let result = RelayResult(usage: translator.finalUsage)
        let initial = translator.takeOutput()
        let pump = StreamPump(initial: initial, idleTimeoutNanos: idleTimeoutNanos) { [translator] pump in
            var translator = translator
            await relay(&translator, upstream: upstream, pump: pump, result: result)
        }
        let stream = ReplyStream(next: { await pump.next() }) { outcome in
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

    /// Reads until the translator has committed (produced message_start), or throws.
    static func fillUntilCommitted(_ translator: inout ChatStreamTranslator, upstream: ReplyStream) async throws {
        while !translator.committed {
            guard let chunk = try await upstream.next() else {
                try translator.finishInput()
                break
            }
            try feed(&translator, chunk)
        }
    }

    /// The producer: upstream chunks in, translated events out, until the translator finishes.
    static func relay(_ translator: inout ChatStreamTranslator, upstream: ReplyStream, pump: StreamPump, result: RelayResult) async {
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
            result.update(usage: translator.finalUsage, failure: translator.failure, complete: translator.state == .finished)
            if translator.isFinished {
                pump.pushFinal(translator.takeOutput())
            } else {
                await pump.push(translator.takeOutput())
            }
        }
    }

    static func feed(_ translator: inout ChatStreamTranslator, _ chunk: ByteBuffer) throws(UpstreamFailure) {
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
