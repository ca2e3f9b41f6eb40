import NIOConcurrencyHelpers
import NIOCore
import SwitchyardWire

/// An answer travelling back up the pipeline: status, headers and a body that is either complete
/// or a stream pulled chunk by chunk by the server (so a slow client slows the upstream read
/// instead of growing memory).
public struct Reply: Sendable {
    public enum Body: Sendable {
        case bytes([UInt8])
        case stream(ReplyStream)
    }

    public var status: Int
    public var headers: [(String, String)]
    public var body: Body

    public init(status: Int, headers: [(String, String)], body: Body) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public static func json(_ status: Int, _ bytes: [UInt8], headers: [(String, String)] = []) -> Reply {
        Reply(status: status, headers: [("content-type", "application/json")] + headers, body: .bytes(bytes))
    }

    /// An error in the envelope of the client's protocol.
    public static func error(_ error: GatewayError, requestID: String, inbound: InboundProtocol = .anthropic) -> Reply {
        let r = inbound.render(error, requestID: requestID)
        return .json(r.status, r.body, headers: r.headers)
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name }?.1
    }
}

/// How a streamed reply ended.
public enum StreamOutcome: Sendable, Equatable {
    case completed
    /// Ended with an `event: error` (or an upstream failure after commit).
    case failed(String)
    /// The client went away (or the server shut down) before the end.
    case abandoned
}

/// A streamed reply body with completion callbacks. It is read by pulling (`next()`) or by
/// handing it to a consumer (`deliver(to:)`); the server calls `finish` exactly once with how it
/// ended, which runs the observers stages added (access log, limiter release) innermost first.
public final class ReplyStream: Sendable {
    private let source: any StreamSource
    private let onFinish: @Sendable (StreamOutcome) -> Void
    private let finished = NIOLockedValueBox(false)

    public init(source: any StreamSource, onFinish: @escaping @Sendable (StreamOutcome) -> Void = { _ in }) {
        self.source = source
        self.onFinish = onFinish
    }

    /// A stream that can only be pulled.
    public convenience init(next: @escaping @Sendable () async throws -> ByteBuffer?, onFinish: @escaping @Sendable (StreamOutcome) -> Void = { _ in }) {
        self.init(source: PulledSource(pull: next), onFinish: onFinish)
    }

    public func next() async throws -> ByteBuffer? {
        try await source.next()
    }

    /// Hands the rest of the stream to `consumer` (see `StreamSource`).
    public func deliver(to consumer: any StreamConsumer) {
        source.deliver(to: consumer)
    }

    /// Reports the outcome; later calls are ignored.
    public func finish(_ outcome: StreamOutcome) {
        let first = finished.withLockedValue { done -> Bool in
            defer { done = true }
            return !done
        }
        if first { onFinish(outcome) }
    }

    /// The same stream with one more observer of its end.
    public func observed(_ observer: @escaping @Sendable (StreamOutcome) -> Void) -> ReplyStream {
        ReplyStream(source: source) { [onFinish] outcome in
            onFinish(outcome)
            observer(outcome)
        }
    }
}
