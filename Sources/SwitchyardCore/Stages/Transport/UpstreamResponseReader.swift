import AsyncHTTPClient
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

/// Reads one upstream response through AsyncHTTPClient's delegate API: the head and each body
/// part arrive on the connection's event loop and are handed to the one task that awaits them
/// (`head()`, then `next()` until nil). Back-pressure is the delegate's: while a part waits
/// unread, the future returned for it stays open and the client reads no more from the socket.
/// No async sequence, no per-part task: one lock and, when the reader is already waiting, one
/// continuation resumed per part.
///
/// `@unchecked Sendable`: every stored property is either immutable or touched only while
/// holding `lock`.
final class UpstreamResponseReader: HTTPClientResponseDelegate, @unchecked Sendable {
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

    /// Set once the request has been handed to the client.
    func attach(_ task: HTTPClient.Task<Void>) {
        lock.withLock { self.task = task }
    }

    /// Cancels the request (the reader is gone, or the reply was abandoned).
    func cancel() {
        lock.withLock { task }?.cancel()
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
        if let error { return .failure(error) }
        if ended { return .success(nil) }
        return nil
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

    private func finish(error: (any Error)?) {
        let (waiting, drained) = lock.withLock { () -> (Waiter, EventLoopPromise<Void>?) in
            if let error { self.error = error } else { ended = true }
            let w = waiter
            waiter = .none
            defer { self.drained = nil }
            return (w, self.drained)
        }
        drained?.succeed()
        switch waiting {
        case .none: break
        case .head(let c): c.resume(throwing: error ?? HTTPClientError.remoteConnectionClosed)
        case .part(let c):
            if let error { c.resume(throwing: error) } else { c.resume(returning: nil) }
        }
    }
}
