import SwitchyardCore
import SwitchyardTesting
import SwitchyardWire
import Testing

@Suite struct MapperStageTests {
    let config: GatewayConfig
    let cooldowns = CooldownTable()
    let stage: MapperStage

    init() throws {
        config = try StageFixtures.config()
        stage = MapperStage(providers: config.providers, policy: config.fallback, cooldowns: cooldowns)
    }

    static func failing(_ kind: UpstreamFailure.Kind, status: Int, retryAfter: String? = nil) -> GatewayError {
        .upstream(UpstreamFailure(kind: kind, upstreamStatus: status, message: "boom", retryAfter: retryAfter), target: "t")
    }

    @Test func fallsBackToTheNextTargetOnA429() async throws {
        let next = RecordingNext { _, context, n in
            if n == 0 { throw Self.failing(.rateLimited, status: 429) }
            return .json(200, Array(context.target!.target.model.utf8))
        }
        let reply = try await stage.handle(StageHarness.call(StageFixtures.body(), config: config), context: StageHarness.context(), next: next.next)
        #expect(reply.status == 200)
        #expect(next.calls.map { $0.context.target!.target.model } == ["a", "b"])
    }

    @Test func aFailedTargetCoolsDownAndIsSkipped() async throws {
        let first = RecordingNext { _, _, n in
            if n == 0 { throw Self.failing(.serverError, status: 500) }
            return .json(200, [])
        }
        _ = try await stage.handle(StageHarness.call(StageFixtures.body(), config: config), context: StageHarness.context(), next: first.next)
        let second = RecordingNext()
        _ = try await stage.handle(StageHarness.call(StageFixtures.body(), config: config), context: StageHarness.context(), next: second.next)
        #expect(second.calls.map { $0.context.target!.target.model } == ["b"])
    }

    @Test func aCooldownEndsOnTheInjectedClockWithATrial() async throws {
        let clock = TestClock()
        let stage = MapperStage(providers: config.providers, policy: config.fallback, cooldowns: CooldownTable(), clock: { clock.now })
        let cooldown = UInt64(config.fallback.cooldown.components.seconds) * 1_000_000_000
        #expect(cooldown > 0)
        let failingA = RecordingNext { _, context, _ in
            if context.target!.target.model == "a" { throw Self.failing(.serverError, status: 500) }
            return .json(200, [])
        }
        func tried() async throws -> [String] {
            let before = failingA.count
            _ = try await stage.handle(StageHarness.call(StageFixtures.body(), config: config), context: StageHarness.context(), next: failingA.next)
            return failingA.calls.dropFirst(before).map { $0.context.target!.target.model }
        }
        #expect(try await tried() == ["a", "b"])
        clock.advance(seconds: Double(cooldown - 1_000_000) / 1e9)
        #expect(try await tried() == ["b"])  // still cooling
        clock.advance(seconds: 0.001)
        #expect(try await tried() == ["a", "b"])  // the trial: a is asked again, fails, b answers
    }

    @Test func allTargetsCoolingStillTriesTheSoonest() async throws {
        let now = MonotonicClock.nanos()
        cooldowns.recordFailure("up:a", cooldownNanos: 5_000_000_000, now: now)
        cooldowns.recordFailure("up:b", cooldownNanos: 9_000_000_000, now: now)
        let next = RecordingNext()
        _ = try await stage.handle(StageHarness.call(StageFixtures.body(), config: config), context: StageHarness.context(), next: next.next)
        #expect(next.calls.map { $0.context.target!.target.model } == ["a"])
    }

    @Test func everyTargetFailingGivesTheLastError() async throws {
        let next = RecordingNext { _, _, n in throw Self.failing(n == 0 ? .rateLimited : .serverError, status: n == 0 ? 429 : 503) }
        do {
            _ = try await stage.handle(StageHarness.call(StageFixtures.body(), config: config), context: StageHarness.context(), next: next.next)
            Issue.record("succeeded")
        } catch let e as GatewayError {
            #expect(e.status == 529)
        }
        #expect(next.count == 2)
    }

    @Test func nonFallbackFailuresAreReturnedAtOnce() async throws {
        let next = RecordingNext { _, _, _ in throw Self.failing(.badRequest, status: 400) }
        await #expect(throws: GatewayError.self) {
            _ = try await stage.handle(StageHarness.call(StageFixtures.body(), config: config), context: StageHarness.context(), next: next.next)
        }
        #expect(next.count == 1)
    }

    @Test func retriesHonourRetryAfterBeforeMovingOn() async throws {
        let yaml = StageFixtures.team.replacingOccurrences(of: "retries_per_target: 0", with: "retries_per_target: 1")
        let c = try StageHarness.config(yaml)
        let mapper = MapperStage(providers: c.providers, policy: c.fallback, cooldowns: CooldownTable())
        let next = RecordingNext { _, _, n in
            if n == 0 { throw Self.failing(.rateLimited, status: 429, retryAfter: "0") }
            return .json(200, [])
        }
        _ = try await mapper.handle(StageHarness.call(StageFixtures.body(), config: c), context: StageHarness.context(), next: next.next)
        #expect(next.calls.map { $0.context.target!.target.model } == ["a", "a"])
        // A Retry-After longer than the mapper waits moves to the next target instead.
        let later = RecordingNext { _, _, n in
            if n == 0 { throw Self.failing(.rateLimited, status: 429, retryAfter: "600") }
            return .json(200, [])
        }
        _ = try await MapperStage(providers: c.providers, policy: c.fallback, cooldowns: CooldownTable())
            .handle(StageHarness.call(StageFixtures.body(), config: c), context: StageHarness.context(), next: later.next)
        #expect(later.calls.map { $0.context.target!.target.model } == ["a", "b"])
    }

    @Test func countTokensAndMaxTokensZeroAreAnsweredLocally() async throws {
        let next = RecordingNext()
        let count = StageHarness.call(#"{"model":"m","messages":[{"role":"user","content":"hello there"}]}"#, config: config, endpoint: .countTokens)
        let reply = try await stage.handle(count, context: StageHarness.context(), next: next.next)
        guard case .bytes(let body) = reply.body else {
            Issue.record("no body")
            return
        }
        #expect((try JSONParser.parse(body))["input_tokens"]?.intValue ?? 0 > 0)
        let zero = StageHarness.call(#"{"model":"m","max_tokens":0,"messages":[{"role":"user","content":"x"}]}"#, config: config)
        let z = try await stage.handle(zero, context: StageHarness.context(), next: next.next)
        guard case .bytes(let zb) = z.body else {
            Issue.record("no body")
            return
        }
        #expect((try JSONParser.parse(zb))["stop_reason"]?.stringValue == "max_tokens")
        #expect(next.count == 0)
    }

    @Test func missingUpstreamKeyNamesTheVariable() async throws {
        let yaml = """
            providers:
              or: { base_url: "https://openrouter.ai/api/v1", api_key: "${OPENROUTER_API_KEY}" }
            routes: [ { name: d, match: { models: ["*"] }, targets: [ { provider: or, model: m } ] } ]
            """
        let c = try StageHarness.config(yaml)
        let mapper = MapperStage(providers: c.providers, policy: c.fallback, cooldowns: CooldownTable())
        let next = RecordingNext()
        do {
            _ = try await mapper.handle(StageHarness.call(StageFixtures.body(), config: c), context: StageHarness.context(), next: next.next)
            Issue.record("called upstream keyless")
        } catch let e as GatewayError {
            #expect(e.message.contains("OPENROUTER_API_KEY"))
        }
        #expect(next.count == 0)
    }
}
