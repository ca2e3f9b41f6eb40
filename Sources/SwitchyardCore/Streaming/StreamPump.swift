import NIOConcurrencyHelpers
import NIOCore
import SwitchyardWire

/// Decouples reading the upstream from writing to the client for one streamed reply.
///
/// A producer task reads and translates the upstream and `push`es bytes; the server's writer
/// pulls them with `next()`. The buffer between them is bounded (`highWater`): a client that
/// stops reading stops the producer, which stops reading the upstream (back-pressure, not memory
/// growth). Because the writer waits on the pump rather than on the upstream, the pump can wake it
/// for a keep-alive `ping` during long upstream silence, and end it with an error event when the
/// gateway shuts down, and a client that goes away cancels the producer — and with it the
/// upstream request — at once.
///
/// `@unchecked Sendable`: the buffer, the flags, the waiting continuations and the producer task
/// handle are private and touched only while holding `lock`.
public final class StreamPump: @unchecked Sendable {
    static let highWater = 256 << 10

    private let lock = NIOLock()
    private var buffer: [UInt8] = []
    private var closed = false
    private var consumer: CheckedContinuation<Void, Never>?
    private var producer: CheckedContinuation<Void, Never>?
    private var lastOutputNanos: UInt64
    private var lastUpstreamNanos: UInt64
    private var task: Task<Void, Never>?
    private var _abortedWith: AnthropicErrorType?
    /// Longest upstream silence before the stream ends with a timeout error (provider `idle`).
    let idleTimeoutNanos: UInt64?
    let id: Int
    let registry: StreamRegistry?
    let inbound: InboundProtocol

    /// Starts `produce` in its own task; it must `push` its output and `close()` at the end, and
    /// call `upstreamActivity()` whenever the upstream delivers bytes.
    /// `registry` (the gateway's) gives it keep-alives, the idle timeout and the shutdown
    /// deadline; `inbound` decides the form of its pings and error events.
    public init(
        initial: [UInt8], idleTimeoutNanos: UInt64? = nil, registry: StreamRegistry? = nil, inbound: InboundProtocol = .anthropic,
        produce: @escaping @Sendable (StreamPump) async -> Void
    ) {
        buffer = initial
        lastOutputNanos = MonotonicClock.nanos()
        lastUpstreamNanos = lastOutputNanos
        self.idleTimeoutNanos = idleTimeoutNanos
        self.registry = registry
        self.inbound = inbound
        id = registry?.nextID() ?? 0
        registry?.register(self)
        let t = Task { [self] in
            await produce(self)
            close()
        }
        let closedAlready = lock.withLock { () -> Bool in
            task = t
            return closed
        }
        if closedAlready { t.cancel() }  // aborted before the task was known
    }

    // MARK: Producer side

    /// The upstream delivered bytes (resets the idle timeout).
    public func upstreamActivity() {
        let now = MonotonicClock.nanos()
        lock.withLock { lastUpstreamNanos = now }
    }

    /// Why the gateway ended the stream itself (idle timeout, shutdown), if it did.
    public var abortedWith: AnthropicErrorType? { lock.withLock { _abortedWith } }

    /// Appends output; waits while the client is behind by more than `highWater` bytes.
    public func push(_ bytes: [UInt8]) async {
        guard !bytes.isEmpty else { return }
        let mustWait: Bool = lock.withLock {
            guard !closed else { return false }
            buffer.append(contentsOf: bytes)
            lastOutputNanos = MonotonicClock.nanos()
            resumeConsumer()
            return buffer.count > Self.highWater
        }
        guard mustWait else { return }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let ready: Bool = lock.withLock {
                    if closed || buffer.count <= Self.highWater || Task.isCancelled { return true }
                    producer = c
                    return false
                }
                if ready { c.resume() }
            }
        } onCancel: {
            lock.withLock {
                producer?.resume()
                producer = nil
            }
        }
    }

    /// Appends the last bytes of the reply (message_stop or an error event) and closes, in one
    /// step: a concurrent abort (idle timeout, shutdown) then finds the stream already ended and
    /// adds no second terminal event.
    public func pushFinal(_ bytes: [UInt8]) {
        lock.withLock {
            guard !closed else { return }
            buffer.append(contentsOf: bytes)
            lastOutputNanos = MonotonicClock.nanos()
            closed = true
            resumeConsumer()
            producer?.resume()
            producer = nil
        }
        registry?.unregister(id)
    }

    /// No more output after what is buffered.
    public func close() {
        lock.withLock {
            closed = true
            resumeConsumer()
            producer?.resume()
            producer = nil
        }
        registry?.unregister(id)
    }

    // MARK: Consumer side

    /// The next bytes for the client, or nil at the end. Cancelling the caller (client gone)
    /// cancels the producer.
    public func next() async -> ByteBuffer? {
        while true {
            let out: (bytes: [UInt8]?, done: Bool) = lock.withLock {
                if !buffer.isEmpty {
                    let b = buffer
                    buffer.removeAll(keepingCapacity: true)
                    producer?.resume()
                    producer = nil
                    return (b, false)
                }
                return (nil, closed)
            }
            if let bytes = out.bytes { return ByteBuffer(bytes: bytes) }
            if out.done { return nil }
            if Task.isCancelled {
                cancel()
                return nil
            }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                    let ready: Bool = lock.withLock {
                        if !buffer.isEmpty || closed { return true }
                        consumer = c
                        return false
                    }
                    if ready { c.resume() }
                }
            } onCancel: {
                lock.withLock { resumeConsumer() }
            }
        }
    }

    /// Stops the producer (client gone, reply abandoned).
    public func cancel() {
        let t = lock.withLock { () -> Task<Void, Never>? in
            closed = true
            buffer.removeAll()
            resumeConsumer()
            producer?.resume()
            producer = nil
            return task
        }
        t?.cancel()
        registry?.unregister(id)
    }

    // MARK: Keep-alive and shutdown

    /// Adds a keep-alive when the client has been waiting longer than `idleNanos`.
    func keepAlive(now: UInt64, idleNanos: UInt64) {
        lock.withLock {
            guard !closed, consumer != nil, buffer.isEmpty, now > lastOutputNanos, now - lastOutputNanos >= idleNanos else { return }
            buffer = inbound.keepAliveEvent
            lastOutputNanos = now
            resumeConsumer()
        }
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

    /// Ends the reply with an error event and stops the producer (idle timeout, shutdown).
    public func abort(type: AnthropicErrorType, message: String) {
        let final = inbound.sseError(type: type, message: message)
        // Close first, then stop the producer: whatever it pushes while it unwinds (its own
        // error for the cancelled upstream read) is dropped, so the client sees one error event.
        let (aborted, t) = lock.withLock { () -> (Bool, Task<Void, Never>?) in
            guard !closed else { return (false, task) }
            _abortedWith = type
            buffer.append(contentsOf: final)
            closed = true
            resumeConsumer()
            producer?.resume()
            producer = nil
            return (true, task)
        }
        t?.cancel()
        if aborted { registry?.unregister(id) }
    }

    private func resumeConsumer() {
        consumer?.resume()
        consumer = nil
    }
}
