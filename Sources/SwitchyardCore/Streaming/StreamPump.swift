import NIOConcurrencyHelpers
import NIOCore
import SwitchyardWire

/// The buffer between a streamed reply's producer (a relay translating upstream parts as they
/// arrive) and its consumer (the client's connection), with no task of its own.
///
/// The producer `push`es bytes from whatever thread delivers the upstream's parts; the pump hands
/// them to the consumer on the consumer's event loop — at once when it is already there — one
/// hand-off at a time, in order. Back-pressure both ways: a consumer that is full (a client not
/// reading) returns a future and gets nothing more until it completes; a producer more than
/// `highWater` bytes ahead gets a future from `push` and stops reading its upstream until the
/// client catches up. Because the pump, not the upstream, feeds the client, the registry can add
/// a keep-alive during long upstream silence and end the reply with an error event (idle
/// timeout, shutdown), and a client that goes away stops the upstream at once (`onStop`).
/// `next()` pulls instead of a consumer (tests).
///
/// `@unchecked Sendable`: the buffer, the flags, the consumer, the waiting puller and the
/// producer's promise are private and touched only while holding `lock`; calls out (to the
/// consumer, the stop action, promises) are made after releasing it.
public final class StreamPump: StreamSource, @unchecked Sendable {
    static let highWater = 256 << 10

    private let lock = NIOLock()
    private var buffer: [UInt8] = []
    /// No more input: what is buffered is the rest.
    private var closed = false
    private var consumer: (any StreamConsumer)?
    /// The consumer was told the end.
    private var consumerEnded = false
    /// A hand-off to the consumer is scheduled or running.
    private var handingOff = false
    /// The consumer returned a future that has not completed.
    private var consumerFull = false
    private var puller: CheckedContinuation<Void, Never>?
    /// Completed when the buffer is handed off (the producer waits on it past `highWater`).
    private var producerWait: EventLoopPromise<Void>?
    private var stopUpstream: (@Sendable () -> Void)?
    /// Cancelled or aborted: the upstream is to stop.
    private var stopped = false
    private var lastOutputNanos: UInt64
    private var lastUpstreamNanos: UInt64
    private var _abortedWith: AnthropicErrorType?
    /// The consumer's event loop: hand-offs and the producer's promises run on it.
    let eventLoop: any EventLoop
    /// Longest upstream silence before the stream ends with a timeout error (provider `idle`).
    let idleTimeoutNanos: UInt64?
    let id: Int
    let registry: StreamRegistry?
    let inbound: InboundProtocol

    /// A pump whose reply starts with `initial`. `registry` (the gateway's) gives it keep-alives,
    /// the idle timeout and the shutdown deadline; `inbound` decides the form of its pings and
    /// error events.
    public init(
        initial: [UInt8], eventLoop: any EventLoop, idleTimeoutNanos: UInt64? = nil, registry: StreamRegistry? = nil,
        inbound: InboundProtocol = .anthropic
    ) {
        buffer = initial
        lastOutputNanos = MonotonicClock.nanos()
        lastUpstreamNanos = lastOutputNanos
        self.eventLoop = eventLoop
        self.idleTimeoutNanos = idleTimeoutNanos
        self.registry = registry
        self.inbound = inbound
        id = registry?.nextID() ?? 0
        registry?.register(self)
    }

    /// What stops the producer's upstream when the gateway ends the stream itself or the client
    /// goes away. Runs at once if that already happened.
    public func onStop(_ action: @escaping @Sendable () -> Void) {
        let runNow = lock.withLock { () -> Bool in
            if stopped { return true }
            stopUpstream = action
            return false
        }
        if runNow { action() }
    }

    // MARK: Producer side

    /// The upstream delivered bytes (resets the idle timeout).
    public func upstreamActivity() {
        let now = MonotonicClock.nanos()
        lock.withLock { lastUpstreamNanos = now }
    }

    /// Why the gateway ended the stream itself (idle timeout, shutdown), if it did.
    public var abortedWith: AnthropicErrorType? { lock.withLock { _abortedWith } }

    /// Appends output. Returns a future when the client is behind by more than `highWater`
    /// bytes: the producer reads no more upstream until it completes.
    @discardableResult
    public func push(_ bytes: [UInt8]) -> EventLoopFuture<Void>? {
        guard !bytes.isEmpty else { return nil }
        let wait = lock.withLock { () -> EventLoopFuture<Void>? in
            guard !closed else { return nil }
            buffer.append(contentsOf: bytes)
            lastOutputNanos = MonotonicClock.nanos()
            guard buffer.count > Self.highWater else { return nil }
            if producerWait == nil { producerWait = eventLoop.makePromise() }
            return producerWait?.futureResult
        }
        handOff()
        return wait
    }

    /// Appends the last bytes of the reply (message_stop or an error event) and closes, in one
    /// step: a concurrent abort (idle timeout, shutdown) then finds the stream already ended and
    /// adds no second terminal event.
    public func pushFinal(_ bytes: [UInt8]) {
        let wake = lock.withLock { () -> EventLoopPromise<Void>? in
            guard !closed else { return nil }
            buffer.append(contentsOf: bytes)
            lastOutputNanos = MonotonicClock.nanos()
            closed = true
            return takeProducerWait()
        }
        wake?.succeed()
        registry?.unregister(id)
        handOff()
    }

    /// No more output after what is buffered.
    public func close() {
        pushFinal([])
    }

    // MARK: Consumer side

    public func deliver(to consumer: any StreamConsumer) {
        lock.withLock { self.consumer = consumer }
        handOff()
    }

    /// The next bytes for the client, or nil at the end (pulled instead of delivered). Cancelling
    /// the caller (client gone) cancels the stream.
    public func next() async -> ByteBuffer? {
        while true {
            let out = lock.withLock { () -> (bytes: [UInt8]?, done: Bool, wake: EventLoopPromise<Void>?) in
                if !buffer.isEmpty {
                    let b = buffer
                    buffer.removeAll(keepingCapacity: true)
                    return (b, false, takeProducerWait())
                }
                return (nil, closed, nil)
            }
            out.wake?.succeed()
            if let bytes = out.bytes { return ByteBuffer(bytes: bytes) }
            if out.done { return nil }
            if Task.isCancelled {
                cancel()
                return nil
            }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                    let ready = lock.withLock { () -> Bool in
                        if !buffer.isEmpty || closed { return true }
                        puller = c
                        return false
                    }
                    if ready { c.resume() }
                }
            } onCancel: {
                lock.withLock { resumePuller() }
            }
        }
    }

    /// Stops the stream (client gone, reply abandoned): the buffer is dropped and the upstream
    /// stopped.
    public func cancel() {
        let (stop, wake) = lock.withLock { () -> ((@Sendable () -> Void)?, EventLoopPromise<Void>?) in
            closed = true
            stopped = true
            buffer.removeAll()
            resumePuller()
            let s = stopUpstream
            stopUpstream = nil
            return (s, takeProducerWait())
        }
        wake?.succeed()
        stop?()
        registry?.unregister(id)
        handOff()
    }

    // MARK: Hand-off

    /// Hands what is buffered (and then the end) to the consumer on its event loop, unless a
    /// hand-off is already under way or the consumer is full.
    private func handOff() {
        let start = lock.withLock { () -> Bool in
            if puller != nil && (!buffer.isEmpty || closed) { resumePuller() }
            guard consumer != nil, !handingOff, !consumerFull, !consumerEnded, !buffer.isEmpty || closed else { return false }
            handingOff = true
            return true
        }
        guard start else { return }
        if eventLoop.inEventLoop {
            runHandOff()
        } else {
            eventLoop.execute { self.runHandOff() }
        }
    }

    private enum Step {
        case bytes([UInt8], any StreamConsumer, EventLoopPromise<Void>?)
        case end(any StreamConsumer)
        case stop
    }

    private func runHandOff() {
        while true {
            let step = lock.withLock { () -> Step in
                guard let consumer, !consumerFull else {
                    handingOff = false
                    return .stop
                }
                if !buffer.isEmpty {
                    let b = buffer
                    buffer.removeAll(keepingCapacity: true)
                    return .bytes(b, consumer, takeProducerWait())
                }
                handingOff = false
                guard closed, !consumerEnded else { return .stop }
                consumerEnded = true
                return .end(consumer)
            }
            switch step {
            case .stop:
                return
            case .end(let consumer):
                consumer.finished(nil)
                return
            case .bytes(let bytes, let consumer, let wake):
                wake?.succeed()
                guard let full = consumer.receive(ByteBuffer(bytes: bytes)) else { continue }
                lock.withLock {
                    consumerFull = true
                    handingOff = false
                }
                full.whenComplete { _ in
                    self.lock.withLock { self.consumerFull = false }
                    self.handOff()
                }
                return
            }
        }
    }

    // MARK: Keep-alive and shutdown

    /// Adds a keep-alive when the client has been waiting longer than `idleNanos`.
    func keepAlive(now: UInt64, idleNanos: UInt64) {
        let added = lock.withLock { () -> Bool in
            let waiting = puller != nil || (consumer != nil && !consumerFull)
            guard !closed, waiting, buffer.isEmpty, now > lastOutputNanos, now - lastOutputNanos >= idleNanos else { return false }
            buffer = inbound.keepAliveEvent
            lastOutputNanos = now
            return true
        }
        if added { handOff() }
    }

    /// Ends the stream with a timeout error when the upstream has been silent too long.
    func checkIdle(now: UInt64) {
        guard let idle = idleTimeoutNanos else { return }
        // `now` was read before this stream was visited: activity since then is not silence.
        let expired = lock.withLock { !closed && now > lastUpstreamNanos && now - lastUpstreamNanos >= idle }
        if expired {
            abort(type: .timeout, message: "upstream went silent for longer than the idle timeout")
        }
    }

    /// Ends the reply with an error event and stops the upstream (idle timeout, shutdown).
    public func abort(type: AnthropicErrorType, message: String) {
        let final = inbound.sseError(type: type, message: message)
        // Close first, then stop the upstream: whatever the producer pushes while it unwinds (its
        // own error for the cancelled upstream read) is dropped, so the client sees one error event.
        let (aborted, stop, wake) = lock.withLock { () -> (Bool, (@Sendable () -> Void)?, EventLoopPromise<Void>?) in
            guard !closed else { return (false, nil, nil) }
            _abortedWith = type
            buffer.append(contentsOf: final)
            closed = true
            stopped = true
            let s = stopUpstream
            stopUpstream = nil
            return (true, s, takeProducerWait())
        }
        guard aborted else { return }
        wake?.succeed()
        stop?()
        registry?.unregister(id)
        handOff()
    }

    /// The producer's promise, to complete once the lock is released.
    private func takeProducerWait() -> EventLoopPromise<Void>? {
        defer { producerWait = nil }
        return producerWait
    }

    private func resumePuller() {
        puller?.resume()
        puller = nil
    }
}
