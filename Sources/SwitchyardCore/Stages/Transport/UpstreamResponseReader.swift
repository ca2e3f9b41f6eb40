import AsyncHTTPClient
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

/// Reads one upstream response through AsyncHTTPClient's delegate API: the head and each body
/// part arrive on the request's event loop and are handed to the one task that awaits them
/// (`head()`, then `next()`) until a relay takes the rest by callback (`deliver(to:)`): from then
/// on each part goes straight from the delegate to the relay. Back-pressure is the delegate's:
/// while a part waits unread (or the relay returned a future for it), the client reads no more
/// from the socket. No async sequence, no per-part task.
///
/// Errors reach the reader as `mapError` makes them (the transport's failure kinds); once the
/// gateway itself cancelled the request, as `CancellationError`. The time spent waiting for the
/// upstream is added to `stats`.
///
/// `@unchecked Sendable`: every stored property is either immutable or touched only while
/// holding `lock`.
final class UpstreamResponseReader: HTTPClientResponseDelegate, StreamSource, @unchecked Sendable {
    typealias Response = Void

    private enum Waiter {
        case none
        case head(CheckedContinuation<HTTPResponseHead, any Error>)
        case part(CheckedContinuation<ByteBuffer?, any Error>)
    }

    private let lock = NIOLock()
    private var head: HTTPResponseHead?
    private var parts = CircularBuffer<ByteBuffer>(initialCapacity: 4)
    private var ended = false
    private var error: (any Error)?
    private var waiter = Waiter.none
    /// Completed when the reader has taken every queued part (AsyncHTTPClient then reads on).
    private var drained: EventLoopPromise<Void>?
    /// The request, to cancel it when the reader stops waiting.
    private var task: HTTPClient.Task<Void>?
    /// The gateway cancelled the request: its error is a cancellation, not an upstream failure.
    private var cancelled = false
    /// After `deliver(to:)`: who gets the parts.
    private var consumer: (any StreamConsumer)?
    private var deliveredSince: UInt64 = 0
    private let stats: CallStats?
    private let mapError: @Sendable (any Error) -> any Error

    init(stats: CallStats? = nil, mapError: @escaping @Sendable (any Error) -> any Error = { $0 }) {
        self.stats = stats
        self.mapError = mapError
    }

    /// Set once the request has been handed to the client.
    func attach(_ task: HTTPClient.Task<Void>) {
        lock.withLock { self.task = task }
    }

    /// Cancels the request (the reader is gone, or the reply was abandoned).
    func cancel() {
        lock.withLock { () -> HTTPClient.Task<Void>? in
            cancelled = true
            return task
        }?.cancel()
    }

    // MARK: Reader side

    /// The response head, or the error that ended the request before it.
    func head() async throws -> HTTPResponseHead {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<HTTPResponseHead, any Error>) in
                let ready: Result<HTTPResponseHead, any Error>? = lock.withLock {
                    if let head { return .success(head) }
                    if let error { return .failure(error) }
                    waiter = .head(c)
                    return nil
                }
                if let ready { c.resume(with: ready) }
            }
        } onCancel: {
            cancel()
        }
    }

    /// The next body part, nil at the end, or the error that ended the response.
    func next() async throws -> ByteBuffer? {
        if let ready = take(orWait: nil) { return try ready.get() }
        let started = MonotonicClock.nanos()
        defer { stats?.addUpstreamTime(MonotonicClock.nanos() &- started) }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<ByteBuffer?, any Error>) in
                if let ready = take(orWait: c) { c.resume(with: ready) }
            }
        } onCancel: {
            cancel()
        }
    }

    /// What is ready, if anything; else `waiter` (when given) is stored to be resumed. Taking the
    /// last queued part lets AsyncHTTPClient read on.
    private func take(orWait waiter: CheckedContinuation<ByteBuffer?, any Error>?) -> Result<ByteBuffer?, any Error>? {
        let (ready, drained) = lock.withLock { () -> (Result<ByteBuffer?, any Error>?, EventLoopPromise<Void>?) in
            guard let r = readyLocked() else {
                if let waiter { self.waiter = .part(waiter) }
                return (nil, nil)
            }
            guard parts.isEmpty, let d = self.drained else { return (r, nil) }
            self.drained = nil
            return (r, d)
        }
        drained?.succeed()
        return ready
    }

    /// A queued part, the end or the error, if any (under the lock). Parts come before the end
    /// and the error.
    private func readyLocked() -> Result<ByteBuffer?, any Error>? {
        if let part = parts.popFirst() { return .success(part) }
        if let error { return .failure(bodyError(error)) }
        if ended { return .success(nil) }
        return nil
    }

    /// A body error as the reader sees it (under the lock).
    private func bodyError(_ raw: any Error) -> any Error {
        cancelled ? CancellationError() : mapError(raw)
    }

    /// Hands the rest of the body to `consumer`, on the request's event loop (where the delegate
    /// calls arrive, so the queued part and the end stay in order with the parts that follow).
    func deliver(to consumer: any StreamConsumer) {
        guard let loop = lock.withLock({ task?.eventLoop }) else { return consumer.finished(CancellationError()) }
        if loop.inEventLoop {
            handOver(to: consumer)
        } else {
            loop.execute { self.handOver(to: consumer) }
        }
    }

    private func handOver(to consumer: any StreamConsumer) {
        let (queued, end, drained) = lock.withLock { () -> ([ByteBuffer], Result<Void, any Error>?, EventLoopPromise<Void>?) in
            self.consumer = consumer
            deliveredSince = MonotonicClock.nanos()
            let queued = Array(parts)
            parts.removeAll()
            let end: Result<Void, any Error>? = error.map { .failure(bodyError($0)) } ?? (ended ? .success(()) : nil)
            defer { self.drained = nil }
            return (queued, end, self.drained)
        }
        var full: EventLoopFuture<Void>?
        for part in queued { full = consumer.receive(part) ?? full }
        if let end { finishConsumer(consumer, end) }
        if let drained {
            if let full { full.cascade(to: drained) } else { drained.succeed() }
        }
    }

    private func finishConsumer(_ consumer: any StreamConsumer, _ end: Result<Void, any Error>) {
        let since = lock.withLock { deliveredSince }
        stats?.addUpstreamTime(MonotonicClock.nanos() &- since)
        switch end {
        case .success: consumer.finished(nil)
        case .failure(let error): consumer.finished(error)
        }
    }

    // MARK: AsyncHTTPClient side (on the connection's event loop)

    func didReceiveHead(task: HTTPClient.Task<Void>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        let waiting = lock.withLock { () -> CheckedContinuation<HTTPResponseHead, any Error>? in
            self.head = head
            guard case .head(let c) = waiter else { return nil }
            waiter = .none
            return c
        }
        waiting?.resume(returning: head)
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveBodyPart(task: HTTPClient.Task<Void>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        if let consumer = lock.withLock({ consumer }) {
            return consumer.receive(buffer) ?? task.eventLoop.makeSucceededVoidFuture()
        }
        let (waiting, wait) = lock.withLock { () -> (CheckedContinuation<ByteBuffer?, any Error>?, EventLoopFuture<Void>?) in
            if case .part(let c) = waiter {
                waiter = .none
                return (c, nil)
            }
            parts.append(buffer)
            if drained == nil { drained = task.eventLoop.makePromise() }
            return (nil, drained!.futureResult)
        }
        if let waiting {
            waiting.resume(returning: buffer)
            return task.eventLoop.makeSucceededVoidFuture()
        }
        return wait!
    }

    func didReceiveError(task: HTTPClient.Task<Void>, _ error: any Error) {
        finish(error: error)
    }

    func didFinishRequest(task: HTTPClient.Task<Void>) throws {
        finish(error: nil)
    }

    private func finish(error rawError: (any Error)?) {
        let (waiting, drained, consumer, error) = lock.withLock { () -> (Waiter, EventLoopPromise<Void>?, (any StreamConsumer)?, (any Error)?) in
            let error = rawError.map { bodyError($0) }
            if let rawError { self.error = rawError } else { ended = true }
            let w = waiter
            waiter = .none
            defer { self.drained = nil }
            return (w, self.drained, self.consumer, error)
        }
        drained?.succeed()
        if let consumer {
            finishConsumer(consumer, error.map { .failure($0) } ?? .success(()))
            return
        }
        switch waiting {
        case .none: break
        case .head(let c): c.resume(throwing: rawError ?? HTTPClientError.remoteConnectionClosed)
        case .part(let c):
            if let error { c.resume(throwing: error) } else { c.resume(returning: nil) }
        }
    }
}
