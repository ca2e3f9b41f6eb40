import Logging
import NIOCore
import NIOHTTP1
import SwitchyardWire

/// Serves the call endpoints — `POST /v1/messages`, `/v1/messages/count_tokens` and
/// `/v1/chat/completions` (and their `/anthropic` and `/openai` forms) — straight on the
/// connection's channel: it reads the head and body as NIOHTTP1 decodes them, admits and
/// authenticates from the head, collects the body into one buffer, and hands the complete request
/// to a `CallExchange`, which runs the pipeline and writes the reply. Every other request passes
/// on unchanged to Hummingbird (`GatewayResponder`), which serves the rest of the API.
///
/// The connection's `HTTPServerPipelineHandler` delivers one request at a time (a pipelined next
/// request waits until this one's reply has ended), so at most one exchange is open per handler.
final class CallChannelHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        case idle
        /// A request Hummingbird serves: its parts go on.
        case passing
        /// A call whose body is being read.
        case reading(PendingCall)
        /// A call answered before its body was read (refused): the rest of it is dropped, and
        /// the connection closes once the answer is written.
        case ignoring
        /// A call being answered.
        case answering
    }

    /// What is known of a call between its head and its end.
    private struct PendingCall {
        var endpoint: Call.Endpoint
        var head: HTTPRequestHead
        var snapshot: GatewaySnapshot
        var credential: Secret?
        var authOutcome: Authenticator.Outcome
        var body: ByteBuffer
        var slot: AdmissionSlot
    }

    private let holder: SnapshotHolder
    private let admission: AdmissionGate
    private let logger: Logger
    private var state = State.idle
    private var exchange: CallExchange?

    init(holder: SnapshotHolder, admission: AdmissionGate, logger: Logger) {
        self.holder = holder
        self.admission = admission
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        switch (state, part) {
        case (.idle, .head(let head)), (.answering, .head(let head)):
            // After an answer, the next head arrives only once that answer has been written.
            guard head.method == .POST, let endpoint = Self.callEndpoint(head.uri) else {
                state = .passing
                context.fireChannelRead(data)
                return
            }
            begin(context: context, head: head, endpoint: endpoint)
        case (.passing, .end):
            state = .idle
            context.fireChannelRead(data)
        case (.passing, _):
            context.fireChannelRead(data)
        case (.reading(var pending), .body(var chunk)):
            let limit = pending.snapshot.config.server.maxBodyBytes
            guard pending.body.readableBytes + chunk.readableBytes <= limit else {
                state = .ignoring
                exchange?.writeError(.requestTooLarge(limit: limit), close: true, slot: pending.slot)
                return
            }
            state = .idle  // drop the enum's reference so the body buffer stays uniquely owned
            pending.body.writeBuffer(&chunk)
            state = .reading(pending)
        case (.reading(let pending), .end):
            state = .answering
            answer(pending)
        case (.ignoring, _), (.answering, _), (.idle, _), (.reading, .head):
            // Every request starts with a head, one request at a time; `.ignoring` drops the
            // rest of a refused request.
            break
        }
    }

    /// The call endpoint a POST to `uri` asks for, if any (the query is ignored).
    static func callEndpoint(_ uri: String) -> Call.Endpoint? {
        let path = uri.firstIndex(of: "?").map { String(uri[..<$0]) } ?? uri
        return InboundEndpoint(path: path)?.callEndpoint
    }

    /// From the head alone: admission, the declared size, authentication.
    private func begin(context: ChannelHandlerContext, head: HTTPRequestHead, endpoint: Call.Endpoint) {
        let snapshot = holder.current
        let requestID = Identifiers.requestID()
        let exchange = CallExchange(
            context: context, snapshot: snapshot, requestID: requestID, endpoint: endpoint, keepAlive: head.isKeepAlive, logger: logger)
        self.exchange = exchange
        guard admission.admits() else {
            state = .ignoring
            exchange.writeError(
                .overloaded("the gateway is at its limit of \(admission.limit) open connections (server.max_connections); retry shortly"),
                close: true, slot: nil)
            return
        }
        let slot = admission.slot()
        let credential = ClientCredential.from(apiKey: head.headers.first(name: "x-api-key"), authorization: head.headers.first(name: "authorization"))
        let authOutcome = snapshot.authenticator.authenticate(credential)
        if case .rejected(let message) = authOutcome {
            // Refused from the headers alone: the body is neither read nor parsed, and the
            // connection is closed after the answer instead of draining it.
            let bodyUnread = head.headers.first(name: "content-length") != "0"
            state = bodyUnread ? .ignoring : .answering
            exchange.run(CallSetup.unauthenticated(endpoint: endpoint, message: message), close: bodyUnread, slot: slot)
            return
        }
        let limit = snapshot.config.server.maxBodyBytes
        let declared = head.headers.first(name: "content-length").flatMap(Int.init)
        if let declared, declared > limit {
            state = .ignoring
            exchange.writeError(.requestTooLarge(limit: limit), close: true, slot: slot)
            return
        }
        // Room for the declared body, up to `preallocationCap`: a client that declares a large
        // body and sends nothing must not make the gateway hold that much memory.
        let capacity = min(declared ?? 0, Self.preallocationCap)
        state = .reading(
            PendingCall(
                endpoint: endpoint, head: head, snapshot: snapshot, credential: credential, authOutcome: authOutcome,
                body: context.channel.allocator.buffer(capacity: capacity), slot: slot))
    }

    /// The most a declared Content-Length reserves before the bytes arrive.
    static let preallocationCap = 1 << 20

    /// The whole request has arrived: build the call and run it.
    private func answer(_ pending: PendingCall) {
        let snapshot = pending.snapshot
        let headers = pending.head.headers
        let call = pending.body.withUnsafeReadableBytes { raw in
            CallSetup.call(
                body: raw, endpoint: pending.endpoint, credential: pending.credential, authOutcome: pending.authOutcome,
                router: snapshot.router, authenticator: snapshot.authenticator,
                anthropicBeta: Self.joined(headers["anthropic-beta"]), anthropicVersion: headers.first(name: "anthropic-version"))
        }
        if pending.body.readableBytes >= MemoryTrimmer.largeBodyBytes { snapshot.state.memoryTrimmer.largeBodyReleased() }
        exchange?.run(call, close: false, slot: pending.slot)
    }

    func channelInactive(context: ChannelHandlerContext) {
        exchange?.clientWentAway()
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // The client closed its side while a call is open: it will not read the answer.
        if let event = event as? ChannelEvent, case .inputClosed = event {
            exchange?.clientWentAway()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        exchange?.clientWentAway()
    }

    /// Repeated header lines as one comma-joined value (RFC 9110 §5.3); nil when absent.
    static func joined(_ values: [String]) -> String? {
        values.isEmpty ? nil : values.count == 1 ? values[0] : values.joined(separator: ", ")
    }
}
