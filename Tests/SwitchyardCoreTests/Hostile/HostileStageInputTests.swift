import SwitchyardCore
import SwitchyardTesting
import SwitchyardWire
import Testing

/// The limiter and the mapper fed with what a hostile upstream or client can make them see.
@Suite struct HostileStageInputTests {
    func scope(tpm: Int? = nil, rpm: Int? = nil) -> LimiterState.Scope {
        LimiterState.Scope(key: "user:x", limits: Limits(rpm: rpm, tpm: tpm, concurrent: 2), label: "user \"x\"")
    }

    @Test func settlingWithHugeOrNegativeUsageNeverTraps() throws {
        let state = LimiterState()
        let now: UInt64 = 1_000_000_000_000
        let negative = try state.admit([scope(tpm: 1_000_000_000_000)], tokens: -5, now: now)
        state.finish(negative, actualTokens: Int.min)  // settles as zero
        let big = try state.admit([scope(tpm: 1_000_000_000_000)], tokens: 1_000_000_000_000, now: now)
        state.finish(big, actualTokens: Int.max)
        // The window is now saturated: the next request waits for it to slide, it does not trap.
        #expect(throws: LimiterState.Rejection.self) { try state.admit([scope(tpm: 1_000_000_000_000)], tokens: 10, now: now + 1) }
        // After the window everything is forgotten.
        let later = try state.admit([scope(tpm: 1_000_000_000_000)], tokens: 10, now: now + LimiterState.window + 1)
        state.finish(later, actualTokens: 3)
        #expect(state.inFlight("user:x") == 0)
    }

    @Test func aRequestLargerThanTheWholeTpmLimitIsRefusedForGoodEvenFirst() {
        let state = LimiterState()
        do {
            _ = try state.admit([scope(tpm: 100)], tokens: 100_008, now: 1)
            Issue.record("admitted a request larger than the whole limit")
        } catch {
            #expect(error.limit == "tpm")
            #expect(error.neverFits?.needed == 100_008)
            #expect(error.neverFits?.limit == 100)
        }
        #expect(state.inFlight("user:x") == 0)
        #expect((try? state.admit([scope(tpm: 100)], tokens: 100, now: 2)) != nil)
    }

    @Test func theLimiterStageSaysANeverFittingRequestCannotBeRetried() async throws {
        let config = try StageHarness.config(
            """
            providers: { up: { base_url: "http://127.0.0.1:9/v1", api_key: k } }
            routes: [ { name: main, match: { models: ["*"] }, targets: [ { provider: up, model: a } ] } ]
            limits: { per_user: { tpm: 100 } }
            """)
        let stage = LimiterStage(config: config, state: LimiterState(), clock: { 1 })
        let body = StageFixtures.body(text: String(repeating: "word ", count: 2000))
        let next = RecordingNext()
        do {
            _ = try await stage.handle(StageHarness.call(body, config: config), context: StageHarness.context(), next: next.next)
            Issue.record("admitted")
        } catch let error as GatewayError {
            #expect(error.status == 429)
            #expect(error.message.contains("more than the whole limit of 100"))
            #expect(error.rendered.headers.contains { $0 == ("x-should-retry", "false") })
            #expect(!error.rendered.headers.contains { $0.0 == "retry-after" })
        }
        #expect(next.count == 0)
    }

    static let hugeRetryAfters = ["1e30", "nan", "inf", "-5", "99999999999999999999", "abc", "86401", "Sat, 03 Dec 2126 08:00:00 GMT"]

    @Test(arguments: hugeRetryAfters) func aHugeOrOddRetryAfterMovesOnInsteadOfWaiting(_ header: String) async throws {
        let config = try StageHarness.config(
            """
            providers: { up: { base_url: "http://127.0.0.1:9/v1", api_key: k } }
            routes: [ { name: main, match: { models: ["*"] }, targets: [ { provider: up, model: a }, { provider: up, model: b } ] } ]
            fallback: { retries_per_target: 3, cooldown: 0s }
            """)
        let stage = MapperStage(providers: config.providers, policy: config.fallback, cooldowns: CooldownTable())
        let next = RecordingNext { _, context, n in
            if n == 0 {
                throw GatewayError.upstream(UpstreamFailure(kind: .rateLimited, upstreamStatus: 429, message: "slow", retryAfter: header), target: "t")
            }
            return .json(200, Array(context.target!.target.model.utf8))
        }
        let reply = try await stage.handle(StageHarness.call(StageFixtures.body(), config: config), context: StageHarness.context(), next: next.next)
        #expect(reply.status == 200)
        #expect(next.calls.map { $0.context.target!.target.model } == ["a", "b"])
    }

    @Test func anEnormousCooldownIsAConfigErrorNotATrap() {
        #expect(throws: ConfigError.self) {
            try StageHarness.config(
                """
                providers: { up: { base_url: "http://127.0.0.1:9/v1" } }
                routes: [ { name: main, match: { models: ["*"] }, targets: [ { provider: up, model: a } ] } ]
                fallback: { cooldown: 10000000000s }
                """)
        }
    }
}
