import NIOConcurrencyHelpers
import NIOCore
import SwitchyardWire

/// Drives a `ChatStreamTranslator` over an upstream SSE body: reads until the first Anthropic
/// event is ready (failures before that are thrown for the mapper), then hands the server a
/// stream that translates each upstream chunk as the client pulls it. One consumer task pulls,
/// so the state needs no locking beyond what `Sendable` demands.
enum ChatStreamRelay {
    static func start(raw: Reply, context: ResponseContext, stats: CallStats, target: String) async throws -> Reply {
        guard case .stream(let upstream) = raw.body else { throw GatewayError.internalError("transport returned no stream") }
        let state = RelayState(translator: ChatStreamTranslator(context: context), upstream: upstream)
        do {
            try await state.fillUntilCommitted()
        } catch let failure as UpstreamFailure {
            upstream.finish(.abandoned)
            throw GatewayError.upstream(failure, target: target)
        }
        stats.stream = true
        let stream = ReplyStream(next: { try await state.next(stats: stats) }) { outcome in
            upstream.finish(outcome)
            let final = state.finalState()
            stats.usage = final.usage
            if let failure = final.failure { stats.errorType = failure.downstream.type.rawValue }
            else if outcome == .abandoned { stats.errorType = "client_disconnected" }
        }
        return Reply(status: 200, headers: SSEHeaders.all, body: .stream(stream))
    }
}

/// The translator and the upstream stream of one relay.
final class RelayState: @unchecked Sendable {
    private let lock = NIOLock()
    private var translator: ChatStreamTranslator
    private let upstream: ReplyStream
    private var pending: [UInt8] = []

    init(translator: ChatStreamTranslator, upstream: ReplyStream) {
        self.translator = translator
        self.upstream = upstream
    }

    /// Reads upstream chunks until the translator commits; throws the failure if it cannot.
    func fillUntilCommitted() async throws {
        while !translator.committed {
            guard let chunk = try await upstream.next() else {
                try translator.finishInput()
                break
            }
            try feed(chunk)
        }
        pending = translator.takeOutput()
    }

    private func feed(_ chunk: ByteBuffer) throws(UpstreamFailure) {
        var failure: UpstreamFailure?
        let now = MonotonicClock.nanos()
        chunk.withUnsafeReadableBytes { raw in
            do throws(UpstreamFailure) { try translator.feed(raw, nowNanos: now) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// The next translated bytes for the client, or nil at the end.
    func next(stats: CallStats) async throws -> ByteBuffer? {
        while true {
            if !pending.isEmpty {
                let out = ByteBuffer(bytes: pending)
                pending.removeAll(keepingCapacity: true)
                return out
            }
            if translator.isFinished { return nil }
            do {
                if let chunk = try await upstream.next() {
                    try? feed(chunk)  // after commit the translator writes failures as events
                } else {
                    try? translator.finishInput()
                }
            } catch let failure as UpstreamFailure {
                try? translator.fail(failure)
            } catch is CancellationError {
                try? translator.fail(UpstreamFailure(kind: .serverError, upstreamStatus: 503, message: "the gateway stopped the stream"))
            } catch {
                try? translator.fail(UpstreamFailure(kind: .connectError, message: "upstream connection failed mid-stream"))
            }
            pending = translator.takeOutput()
        }
    }

    func finalState() -> (usage: Usage, failure: UpstreamFailure?) {
        (translator.finalUsage, translator.failure)
    }
}
