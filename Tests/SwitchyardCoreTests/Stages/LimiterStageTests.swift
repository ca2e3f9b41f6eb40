import NIOConcurrencyHelpers
import SwitchyardCore
import SwitchyardTesting
import SwitchyardWire
import Testing

/// A hand-driven clock for limiter tests: limits are tested by counts, never wall-clock time.
final class TestClock: Sendable {
    private let value = NIOLockedValueBox<UInt64>(1_000_000_000_000)
    var now: UInt64 { value.withLockedValue { $0 } }
    func advance(seconds: Double) { value.withLockedValue { $0 += UInt64(seconds * 1e9) } }
}

@Suite struct LimiterStageTests {
    let config: GatewayConfig
    let clock = TestClock()
    let state = LimiterState()
    let stage: LimiterStage

    init() throws {
        config = try StageFixtures.config()
        let clock = self.clock
        stage = LimiterStage(config: config, state: state, clock: { clock.now })
    }

    func context(_ name: String) -> CallContext {
        StageHarness.context(user: config.users.first { $0.name == name })
    }

    func send(_ user: String, model: String = "claude-haiku-4-5", next: RecordingNext) async -> Result<Reply, GatewayError> {
        let call = StageHarness.call(StageFixtures.body(model: model), config: config)
        do { return .success(try await stage.handle(call, context: context(user), next: next.next)) } catch let e as GatewayError { return .failure(e) } catch {
            return .failure(.internalError("\(error)"))
        }
    }

    @Test func rpmAdmitsExactlyNPerMinuteUnderConcurrency() async throws {
        let next = RecordingNext()
        let results = await withTaskGroup(of: Result<Reply, GatewayError>.self) { group in
            for _ in 0..<10 { group.addTask { await self.send("bob", model: "claude-sonnet-4-5", next: next) } }
            var all: [Result<Reply, GatewayError>] = []
            for await r in group { all.append(r) }
            return all
        }
        let admitted = results.filter { if case .success = $0 { return true } else { return false } }.count
        #expect(admitted == 2)  // bob has limits.per_user rpm 2
        #expect(next.count == 2)
        for case .failure(let e) in results {
            #expect(e.status == 429)
            let headers = e.rendered.headers
            #expect(headers.contains { $0.0 == "retry-after" && Int($0.1)! >= 59 })
            #expect(headers.contains { $0.0 == "anthropic-ratelimit-requests-limit" && $0.1 == "2" })
            #expect(headers.contains { $0.0 == "anthropic-ratelimit-requests-remaining" && $0.1 == "0" })
        }
        clock.advance(seconds: 59)
        if case .success = await send("bob", model: "claude-sonnet-4-5", next: next) { Issue.record("admitted before the window slid") }
        clock.advance(seconds: 1.5)
        if case .failure(let e) = await send("bob", model: "claude-sonnet-4-5", next: next) { Issue.record("rejected after the window: \(e)") }
    }

    @Test func routeLimitsApplyToAllUsersTogether() async throws {
        // Route "cheap" has rpm 5; alice (rpm 3) and bob (rpm 2) together hit it.
        let next = RecordingNext()
        var admitted = 0
        for user in ["alice", "alice", "alice", "bob", "bob", "bob"] {
            if case .success = await send(user, next: next) { admitted += 1 }
        }
        #expect(admitted == 5)
        if case .success = await send("alice", next: next) { Issue.record("route limit not enforced") }
    }

    @Test func concurrentSlotIsReleasedWhenTheStreamEnds() async throws {
        let next = RecordingNext { _, _, _ in
            Reply(status: 200, headers: [], body: .stream(ReplyStream(next: { nil })))
        }
        guard case .success(let first) = await send("alice", next: next) else {
            Issue.record("first rejected")
            return
        }
        if case .success = await send("alice", next: next) { Issue.record("second admitted while the first stream is open") }
        guard case .stream(let stream) = first.body else {
            Issue.record("no stream")
            return
        }
        #expect(state.inFlight("user:alice") == 1)
        stream.finish(.abandoned)  // the client went away
        #expect(state.inFlight("user:alice") == 0)
        if case .failure(let e) = await send("alice", next: next) { Issue.record("slot not released: \(e)") }
    }

    @Test func tpmReservesAndSettles() async throws {
        // alice: tpm 10000. A reply reporting 9900 tokens leaves room for small requests only.
        let next = RecordingNext { _, context, _ in
            context.stats.usage = Usage(inputTokens: 9500, outputTokens: 400)
            return .json(200, Array("{}".utf8))
        }
        guard case .success = await send("alice", next: next) else {
            Issue.record("rejected")
            return
        }
        clock.advance(seconds: 1)
        let result = await send("alice", next: next)
        guard case .failure(let e) = result else {
            Issue.record("second admitted past tpm")
            return
        }
        #expect(e.message.contains("tpm"))
        #expect(e.rendered.headers.contains { $0.0 == "anthropic-ratelimit-tokens-limit" && $0.1 == "10000" })
    }

    @Test func countTokensIsNotLimited() async throws {
        let next = RecordingNext()
        let call = StageHarness.call(#"{"model":"claude-haiku-4-5","messages":[{"role":"user","content":"x"}]}"#, config: config, endpoint: .countTokens)
        for _ in 0..<10 { _ = try await stage.handle(call, context: context("bob"), next: next.next) }
        #expect(next.count == 10)
    }
}
