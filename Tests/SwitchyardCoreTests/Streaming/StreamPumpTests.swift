import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SwitchyardCore
import SwitchyardTesting
import SwitchyardWire
import Testing

@Suite struct StreamPumpTests {
    let loop = MultiThreadedEventLoopGroup.singleton.any()

    /// Drains a pump to its end by pulling.
    func drain(_ pump: StreamPump) async -> [UInt8] {
        var out: [UInt8] = []
        while let chunk = await pump.next() { out += chunk.readableBytesView }
        return out
    }

    @Test func bytesArriveInOrderAndTheEndIsSeen() async {
        let pump = StreamPump(initial: Array("a".utf8), eventLoop: loop)
        for piece in ["b", "c", "d"] { pump.push(Array(piece.utf8)) }
        pump.close()
        #expect(String(decoding: await drain(pump), as: UTF8.self) == "abcd")
    }

    @Test(.timeLimit(.minutes(1))) func aProducerFasterThanTheClientIsToldToWaitPastTheHighWaterMark() async throws {
        let pump = StreamPump(initial: [], eventLoop: loop)
        var waits: [EventLoopFuture<Void>] = []
        for _ in 0..<6 {
            if let wait = pump.push([UInt8](repeating: 0x61, count: 64 << 10)) { waits.append(wait) }
        }
        // 256 KiB may wait unread; the fifth and sixth 64 KiB pushes are told to wait.
        #expect(waits.count == 2)
        _ = await pump.next()
        for wait in waits { try await wait.get() }  // taken by the client: the producer reads on
        pump.close()
        #expect(await drain(pump).isEmpty)
    }

    @Test(.timeLimit(.minutes(1))) func aConsumerGetsEverythingOnThePumpsLoopAndTheEndOnce() async throws {
        let pump = StreamPump(initial: Array("a".utf8), eventLoop: loop)
        let consumer = RecordingConsumer(loop: loop)
        pump.deliver(to: consumer)
        pump.push(Array("b".utf8))
        pump.pushFinal(Array("c".utf8))
        try await consumer.ended.futureResult.get()
        #expect(consumer.text == "abc")
        #expect(consumer.endings == 1)
        #expect(consumer.allOnLoop)
    }

    @Test(.timeLimit(.minutes(1))) func aFullConsumerGetsNothingMoreUntilItsFutureCompletes() async throws {
        let pump = StreamPump(initial: [], eventLoop: loop)
        let consumer = RecordingConsumer(loop: loop)
        let space = loop.makePromise(of: Void.self)
        consumer.fullUntil = space.futureResult
        pump.deliver(to: consumer)
        pump.push(Array("x".utf8))
        try await Task.sleep(nanoseconds: 20_000_000)
        pump.push(Array("y".utf8))
        pump.close()
        try await Task.sleep(nanoseconds: 50_000_000)
        #expect(consumer.text == "x")  // full: "y" and the end wait
        #expect(consumer.endings == 0)
        consumer.fullUntil = nil
        space.succeed()
        try await consumer.ended.futureResult.get()
        #expect(consumer.text == "xy")
    }

    @Test func abortEndsWithExactlyOneErrorEventEvenWhenTheProducerReportsItsOwn() async throws {
        let pump = StreamPump(initial: Array("event: message_start\ndata: {}\n\n".utf8), eventLoop: loop)
        _ = await pump.next()
        pump.abort(type: .overloaded, message: "the gateway is shutting down")
        // The producer, its upstream cancelled, reports an error of its own: dropped.
        pump.pushFinal(ErrorEnvelope.sseEvent(type: .api, message: "upstream request cancelled"))
        let rest = SSEEvents.parse(await drain(pump))
        #expect(rest.count == 1)
        #expect(rest.first?["data"]?["error"]?["type"]?.stringValue == "overloaded_error")
        #expect(pump.abortedWith == .overloaded)
    }

    @Test func anAbortAfterTheFinalEventAddsNothing() async {
        let pump = StreamPump(initial: [], eventLoop: loop)
        pump.pushFinal(ErrorEnvelope.sseEvent(type: .timeout, message: "upstream went silent"))
        // A timer firing right now must find the stream already ended.
        pump.abort(type: .overloaded, message: "the gateway is shutting down")
        let events = SSEEvents.parse(await drain(pump))
        #expect(events.count == 1)
        #expect(events.first?["data"]?["error"]?["type"]?.stringValue == "timeout_error")
        #expect(pump.abortedWith == nil)
    }

    @Test func cancellingOrAbortingStopsTheUpstream() async {
        let stops = Counter()
        let cancelled = StreamPump(initial: [], eventLoop: loop)
        cancelled.onStop { stops.increment() }
        cancelled.cancel()
        #expect(stops.value == 1)
        #expect(await cancelled.next() == nil)
        cancelled.onStop { stops.increment() }  // registered after the stop: runs at once
        #expect(stops.value == 2)

        let aborted = StreamPump(initial: [], eventLoop: loop)
        aborted.onStop { stops.increment() }
        aborted.abort(type: .timeout, message: "upstream went silent")
        #expect(stops.value == 3)

        let completed = StreamPump(initial: [], eventLoop: loop)
        completed.onStop { stops.increment() }
        completed.close()
        #expect(stops.value == 3)  // a stream that ended normally stops nothing
    }
}

/// A consumer that records what it gets, and can say it is full.
final class RecordingConsumer: StreamConsumer, @unchecked Sendable {
    private let lock = NIOLock()
    private var bytes: [UInt8] = []
    private var _endings = 0
    private var _allOnLoop = true
    private var _fullUntil: EventLoopFuture<Void>?
    let loop: any EventLoop
    let ended: EventLoopPromise<Void>

    init(loop: any EventLoop) {
        self.loop = loop
        ended = loop.makePromise()
    }

    var text: String { lock.withLock { String(decoding: bytes, as: UTF8.self) } }
    var endings: Int { lock.withLock { _endings } }
    var allOnLoop: Bool { lock.withLock { _allOnLoop } }
    var fullUntil: EventLoopFuture<Void>? {
        get { lock.withLock { _fullUntil } }
        set { lock.withLock { _fullUntil = newValue } }
    }

    func receive(_ chunk: ByteBuffer) -> EventLoopFuture<Void>? {
        let onLoop = loop.inEventLoop
        return lock.withLock {
            bytes += chunk.readableBytesView
            _allOnLoop = _allOnLoop && onLoop
            return _fullUntil
        }
    }

    func finished(_ error: (any Error)?) {
        let onLoop = loop.inEventLoop
        lock.withLock {
            _endings += 1
            _allOnLoop = _allOnLoop && onLoop
        }
        ended.succeed()
    }
}

/// A thread-safe counter for test producers.
final class Counter: Sendable {
    private let box = NIOLockedValueBox(0)
    var value: Int { box.withLockedValue { $0 } }
    func increment() { box.withLockedValue { $0 += 1 } }
}
