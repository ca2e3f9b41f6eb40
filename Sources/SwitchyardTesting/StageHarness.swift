import Logging
import NIOConcurrencyHelpers
import SwitchyardCore
import SwitchyardWire

/// Helpers for calling a stage's `handle` directly in unit tests.
public enum StageHarness {
    /// A config loaded from YAML text (environment given explicitly).
    public static func config(_ yaml: String, environment: [String: String] = [:]) throws -> GatewayConfig {
        try ConfigLoader(environment: environment).load(bytes: Array(yaml.utf8))
    }

    /// A Call for a Messages body, routed with the config's routes.
    public static func call(_ body: String, config: GatewayConfig, endpoint: Call.Endpoint = .messages, credential: String? = nil) -> Call {
        let bytes = Array(body.utf8)
        return bytes.withUnsafeBytes { raw in
            CallSetup.call(
                body: raw, endpoint: endpoint, credential: credential.map(Secret.init), authOutcome: nil,
                router: RouteMatcher(routes: config.routes), authenticator: Authenticator(mode: config.auth, users: config.users))
        }
    }

    public static func context(user: User? = nil) -> CallContext {
        var c = CallContext(requestID: Identifiers.requestID(), generation: 1, logger: Logger(label: "test"))
        c.user = user
        return c
    }
}

/// A `next` that records what reached it and answers from a script.
public final class RecordingNext: Sendable {
    public struct Seen: Sendable {
        public var call: Call
        public var context: CallContext
    }

    private let seen = NIOLockedValueBox<[Seen]>([])
    private let answer: @Sendable (Call, CallContext, Int) throws -> Reply

    /// `answer` gets the call, its context and the 0-based number of the call.
    public init(_ answer: @escaping @Sendable (Call, CallContext, Int) throws -> Reply = { _, _, _ in .json(200, Array("{}".utf8)) }) {
        self.answer = answer
    }

    public var calls: [Seen] { seen.withLockedValue { $0 } }
    public var count: Int { seen.withLockedValue { $0.count } }

    public var next: Next {
        { call, context in
            let n = self.seen.withLockedValue { list -> Int in
                list.append(Seen(call: call, context: context))
                return list.count - 1
            }
            return try self.answer(call, context, n)
        }
    }
}
