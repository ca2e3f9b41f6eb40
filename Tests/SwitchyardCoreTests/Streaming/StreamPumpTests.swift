import NIOConcurrencyHelpers
import NIOCore
import SwitchyardCore
import SwitchyardTesting
import SwitchyardWire
import Testing

@Suite struct StreamPumpTests {
    /// Drains a pump to its end.
    func drain(_ pump: StreamPump) async -> [UInt8] {
        var out: [UInt8] = []
        while let chunk = await pump.next() { out += chunk.readableBytesView }
        return out
    }

    @Test func bytesArriveInOrderAndTheEndIsSeen() async {
        let pump = StreamPump(initial: Array("a".utf8)) { pump in
            for piece in ["b", "c", "d"] { await pump.push(Array(piece.utf8)) }
        }
        #expect(String(decoding: await drain(pump), as: UTF8.self) == "abcd")
    }

    @Test func aProducerFasterThanTheClientWaitsAtTheHighWaterMark() async throws {
        let pushed = Counter()
        let pump = StreamPump(initial: []) { pump in
            for _ in 0..<64 {
                await pump.push([UInt8](repeating: 0x61, count: 64 << 10))
                pushed.increment()
            }
        }
        for _ in 0..<200 where pushed.value < 4 { try await Task.sleep(nanoseconds: 10_000_000) }
        try await Task.sleep(nanoseconds: 100_000_000)
        // 256 KiB buffered at most: the producer is parked after four 64 KiB pushes.
        #expect((4...5).contains(pushed.value))
        #expect(await drain(pump).count == 64 * (64 << 10))
    }

    @Test func abortEndsWithExactlyOneErrorEventEvenWhenTheProducerReportsItsOwn() async throws {
        let pump = StreamPump(initial: Array("event: message_start\ndata: {}\n\n".utf8)) { pump in
            // The producer waits on its upstream; cancelled, it reports an error of its own.
            try? await Task.sleep(nanoseconds: 60_000_000_000)
            await pump.push(ErrorEnvelope.sseEvent(type: .api, message: "upstream request cancelled"))
        }
        _ = await pump.next()
        pump.abort(type: .overloaded, message: "the gateway is shutting down")
        let rest = SSEEvents.parse(await drain(pump))
        #expect(rest.count == 1)
        #expect(rest.first?["data"]?["error"]?["type"]?.stringValue == "overloaded_error")
        #expect(pump.abortedWith == .overloaded)
    }

    @Test func anAbortAfterTheFinalEventAddsNothing() async {
        let pump = StreamPump(initial: []) { pump in
            pump.pushFinal(ErrorEnvelope.sseEvent(type: .timeout, message: "upstream went silent"))
            // A timer firing right now must find the stream already ended.
            pump.abort(type: .overloaded, message: "the gateway is shutting down")
        }
        let events = SSEEvents.parse(await drain(pump))
        #expect(events.count == 1)
        #expect(events.first?["data"]?["error"]?["type"]?.stringValue == "timeout_error")
        #expect(pump.abortedWith == nil)
    }

    @Test func cancellingStopsTheProducer() async throws {
        let stopped = Counter()
        let pump = StreamPump(initial: []) { _ in
            try? await Task.sleep(nanoseconds: 60_000_000_000)
            if Task.isCancelled { stopped.increment() }
        }
        pump.cancel()
        #expect(await pump.next() == nil)
        for _ in 0..<50 where stopped.value == 0 { try await Task.sleep(nanoseconds: 10_000_000) }
        #expect(stopped.value == 1)
    }
}

/// A thread-safe counter for test producers.
final class Counter: Sendable {
    private let box = NIOLockedValueBox(0)
    var value: Int { box.withLockedValue { $0 } }
    func increment() { box.withLockedValue { $0 += 1 } }
}
