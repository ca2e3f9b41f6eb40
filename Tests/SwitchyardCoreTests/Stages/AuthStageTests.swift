import SwitchyardCore
import SwitchyardTesting
import SwitchyardWire
import Testing

@Suite struct AuthStageTests {
    let config: GatewayConfig
    let stage: AuthStage

    init() throws {
        config = try StageFixtures.config()
        stage = AuthStage(authenticator: Authenticator(mode: config.auth, users: config.users))
    }

    @Test func missingTokenIs401AndNeverReachesNext() async throws {
        let next = RecordingNext()
        let call = StageHarness.call(StageFixtures.body(), config: config)
        await #expect(throws: GatewayError.self) { _ = try await stage.handle(call, context: StageHarness.context(), next: next.next) }
        do { _ = try await stage.handle(call, context: StageHarness.context(), next: next.next) } catch let e as GatewayError {
            #expect(e.status == 401)
            #expect(e.type == .authentication)
        }
        #expect(next.count == 0)
    }

    @Test func unknownTokenIs401() async throws {
        let next = RecordingNext()
        let call = StageHarness.call(StageFixtures.body(), config: config, credential: "sy-wrong")
        do {
            _ = try await stage.handle(call, context: StageHarness.context(), next: next.next)
            Issue.record("admitted")
        } catch let e as GatewayError {
            #expect(e.status == 401)
        }
        #expect(next.count == 0)
    }

    @Test func validTokenSetsTheUser() async throws {
        let next = RecordingNext()
        let call = StageHarness.call(StageFixtures.body(), config: config, credential: StageFixtures.bobToken)
        let reply = try await stage.handle(call, context: StageHarness.context(), next: next.next)
        #expect(reply.status == 200)
        #expect(next.calls.first?.context.user?.name == "bob")
    }

    @Test func routeOutsideTheAllowListIs403() async throws {
        let next = RecordingNext()
        let denied = StageHarness.call(StageFixtures.body(model: "claude-sonnet-4-5"), config: config, credential: StageFixtures.aliceToken)
        do {
            _ = try await stage.handle(denied, context: StageHarness.context(), next: next.next)
            Issue.record("admitted")
        } catch let e as GatewayError {
            #expect(e.status == 403)
            #expect(e.type == .permission)
        }
        #expect(next.count == 0)
        let allowed = StageHarness.call(StageFixtures.body(model: "claude-haiku-4-5"), config: config, credential: StageFixtures.aliceToken)
        _ = try await stage.handle(allowed, context: StageHarness.context(), next: next.next)
        #expect(next.count == 1)
    }

    @Test func openModeAdmitsWithoutToken() async throws {
        let open = AuthStage(authenticator: Authenticator(mode: .open, users: []))
        let next = RecordingNext()
        _ = try await open.handle(StageHarness.call(StageFixtures.body(), config: config), context: StageHarness.context(), next: next.next)
        #expect(next.count == 1)
        #expect(next.calls[0].context.user == nil)
    }

    @Test func constantTimeCompare() {
        #expect(Authenticator.constantTimeEquals([1, 2, 3], [1, 2, 3]))
        #expect(!Authenticator.constantTimeEquals([1, 2, 3], [1, 2, 4]))
        #expect(!Authenticator.constantTimeEquals([1, 2], [1, 2, 3]))
    }
}
