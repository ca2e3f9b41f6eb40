import Logging
import NIOCore
import NIOPosix
import SwitchyardWire

/// Per-request context: typed slots that stages fill in and pass downstream as modified copies.
public struct CallContext: Sendable {
    public var requestID: String
    /// The authenticated user; nil in open mode.
    public var user: User?
    /// The target the mapper is trying now, with its resolved provider and key.
    public var target: ResolvedTarget?
    /// Config generation this request runs on.
    public var generation: Int
    public var logger: Logger
    /// Mutable per-request record shared by all stages (for the access log, limits and metrics).
    public let stats: CallStats
    /// The event loop of the client's connection: the upstream response is handed to the call
    /// on it, so each streamed chunk is read, translated and written without a thread hop of
    /// ours. (Requiring the upstream connection itself to be on this loop costs more than the
    /// hop: AsyncHTTPClient then opens overflow connections.) Nil in tests.
    public var eventLoop: (any EventLoop)?

    public init(requestID: String, generation: Int, logger: Logger, stats: CallStats = CallStats(), eventLoop: (any EventLoop)? = nil) {
        self.requestID = requestID
        self.generation = generation
        self.logger = logger
        self.stats = stats
        self.eventLoop = eventLoop
    }

    /// The loop a streamed reply is handed to the client on: the connection's, or any of the
    /// gateway's (tests).
    var streamLoop: any EventLoop { eventLoop ?? MultiThreadedEventLoopGroup.singleton.any() }
}

/// A route target bound to its provider and effective key for one attempt.
public struct ResolvedTarget: Sendable {
    public var provider: Provider
    public var target: Target
    public var apiKey: Secret?
    public var label: String { target.label }
}
