import NIOCore
import NIOPosix
import SwitchyardCore
import SwitchyardTesting
import SwitchyardWire
import Testing

/// The registry's tick, driven with explicit times (no sleeping): keep-alives in each protocol's
/// form, the idle timeout, and the shutdown deadline.
@Suite struct StreamRegistryTests {
    /// A pump whose producer sends nothing, registered with `registry`.
    func quietPump(_ registry: StreamRegistry, inbound: InboundProtocol, idle: UInt64? = nil) -> StreamPump {
        StreamPump(initial: [], eventLoop: MultiThreadedEventLoopGroup.singleton.any(), idleTimeoutNanos: idle, registry: registry, inbound: inbound)
    }

    /// Waits until the consumer is parked in `next()`, then ticks, and returns what `next()` got.
    func tickWhileWaiting(_ registry: StreamRegistry, _ pump: StreamPump, at now: UInt64) async throws -> String {
        async let chunk = pump.next()
        try await Task.sleep(nanoseconds: 50_000_000)  // let `next()` park: keep-alives go only to a waiting client
        registry.tick(now: now)
        guard let bytes = await chunk else { return "<end>" }
        return String(decoding: bytes.readableBytesView, as: UTF8.self)
    }

    @Test func quietAnthropicStreamsGetPingEventsAndOpenAIStreamsGetComments() async throws {
        let metrics = Metrics()
        let registry = StreamRegistry(metrics: metrics)
        let anthropic = quietPump(registry, inbound: .anthropic)
        let openAI = quietPump(registry, inbound: .openAI)
        #expect(registry.openStreams == 2)
        let far = MonotonicClock.nanos() + 60_000_000_000
        #expect(try await tickWhileWaiting(registry, anthropic, at: far) == "event: ping\ndata: {\"type\":\"ping\"}\n\n")
        #expect(try await tickWhileWaiting(registry, openAI, at: far) == ": ping\n\n")
        anthropic.cancel()
        openAI.cancel()
        #expect(registry.openStreams == 0)
    }

    @Test func noPingBeforeTheIdleInterval() async throws {
        let registry = StreamRegistry(metrics: Metrics())
        let pump = quietPump(registry, inbound: .anthropic)
        async let chunk = pump.next()
        try await Task.sleep(nanoseconds: 50_000_000)  // the client is waiting…
        registry.tick(now: MonotonicClock.nanos() + 1_000_000_000)  // …but only for a second
        pump.pushFinal(Array("x".utf8))
        #expect(await chunk.map { String(decoding: $0.readableBytesView, as: UTF8.self) } == "x")
    }

    @Test func theShutdownDeadlineEndsOpenStreamsWithAnErrorInTheirProtocol() async throws {
        let registry = StreamRegistry(metrics: Metrics())
        let anthropic = quietPump(registry, inbound: .anthropic)
        let openAI = quietPump(registry, inbound: .openAI)
        let now = MonotonicClock.nanos()
        registry.shutdown(at: now + 5_000_000_000)
        registry.tick(now: now + 1_000_000_000)
        #expect(registry.openStreams == 2)
        registry.tick(now: now + 5_000_000_000)
        #expect(registry.openStreams == 0)
        let a = SSEEvents.parse(Array((await anthropic.next())?.readableBytesView ?? []))
        #expect(a.first?["data"]?["error"]?["type"]?.stringValue == "overloaded_error")
        let o = String(decoding: (await openAI.next())?.readableBytesView ?? [], as: UTF8.self)
        #expect(o.hasPrefix("data: {\"error\":"))
        #expect(o.contains("\"code\":\"overloaded\""))
        #expect(anthropic.abortedWith == .overloaded)
    }

    @Test func aStreamPastItsIdleTimeoutEndsWithATimeoutError() async throws {
        let registry = StreamRegistry(metrics: Metrics())
        let pump = quietPump(registry, inbound: .anthropic, idle: 2_000_000_000)
        registry.tick(now: MonotonicClock.nanos() + 3_000_000_000)
        let events = SSEEvents.parse(Array((await pump.next())?.readableBytesView ?? []))
        #expect(events.first?["data"]?["error"]?["type"]?.stringValue == "timeout_error")
        #expect(pump.abortedWith == .timeout)
    }
}
