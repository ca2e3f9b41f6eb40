import Hummingbird
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import SwitchyardWire

/// Per-connection handler, in front of both the call handler and Hummingbird, so it sees every
/// request and response of the connection as NIOHTTP1 parts. It counts the connection open
/// until it closes, for the admission gate; it closes the
/// connection once a response that says `Connection: close` is written, rather than read (and
/// drain) whatever request body is still arriving; it closes a connection idle for
/// `idleTimeout` between requests (slow heads included: the timer stops only when a whole head
/// has arrived); and it answers malformed HTTP (bad framing, oversized heads) with the Anthropic
/// error envelope and a close, where the HTTP decoder alone would send a bare 400.
final class ConnectionCloseDetector: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// The gateway's open connections, told of each open and close.
    let connections: ConnectionRegistry
    let idleTimeout: TimeAmount

    init(connections: ConnectionRegistry, idleTimeout: TimeAmount) {
        self.connections = connections
        self.idleTimeout = idleTimeout
    }

    private var requestOpen = false
    private var responseOpen = false
    private var failed = false
    /// The response being written says `Connection: close`: close once it is written, rather
    /// than read (and drain) whatever request body is still arriving.
    private var closeAfterResponse = false
    private var idleTimer: Scheduled<Void>?

    func handlerAdded(context: ChannelHandlerContext) {
        connections.open(ObjectIdentifier(context.channel))
        if context.channel.isActive { armIdleTimer(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        armIdleTimer(context: context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            requestOpen = true
            idleTimer?.cancel()
            idleTimer = nil
        case .end: requestOpen = false
        case .body: break
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let response):
            responseOpen = true
            closeAfterResponse = response.headers.first(name: "connection")?.lowercased() == "close"
        case .end:
            responseOpen = false
            if closeAfterResponse {
                let written = context.eventLoop.makePromise(of: Void.self)
                written.futureResult.whenComplete { _ in context.close(promise: nil) }
                if let promise { written.futureResult.cascade(to: promise) }
                context.writeAndFlush(data, promise: written)
                return
            }
            if !requestOpen { armIdleTimer(context: context) }
        case .body: break
        }
        context.write(data, promise: promise)
    }

    /// Closes the connection if no request head arrives within `idleTimeout`.
    private func armIdleTimer(context: ChannelHandlerContext) {
        idleTimer?.cancel()
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        idleTimer = context.eventLoop.scheduleTask(in: idleTimeout) {
            loopBound.value.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        guard let parseError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        guard !failed else { return }
        failed = true
        // Mid-request or mid-response the only clean answer is to close.
        guard !requestOpen, !responseOpen else {
            context.close(promise: nil)
            return
        }
        let (status, type, message) = Self.describe(parseError)
        ConnectionRefusal.answer(context, status: status, type: type, message: message)
    }

    static func describe(_ error: HTTPParserError) -> (Int, AnthropicErrorType, String) {
        switch error {
        case .headerOverflow:
            return (431, .invalidRequest, "request line and headers are larger than the gateway's limit (server.max_header_bytes)")
        case .invalidContentLength, .unexpectedContentLength:
            return (400, .invalidRequest, "malformed HTTP request: invalid Content-Length")
        case .invalidChunkSize:
            return (400, .invalidRequest, "malformed HTTP request: invalid chunked transfer encoding")
        default:
            return (400, .invalidRequest, "malformed HTTP request")
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        idleTimer?.cancel()
        idleTimer = nil
        connections.closed(ObjectIdentifier(context.channel))
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        idleTimer?.cancel()
        idleTimer = nil
        connections.closed(ObjectIdentifier(context.channel))
    }
}

/// Which connections are open (for the admission gate and the drain).
final class ConnectionRegistry: Sendable {
    private let open = NIOLockedValueBox<Set<ObjectIdentifier>>([])

    func open(_ id: ObjectIdentifier) {
        open.withLockedValue { _ = $0.insert(id) }
    }

    /// Client connections open now.
    var openConnections: Int { open.withLockedValue { $0.count } }

    /// The connection closed: it no longer counts.
    func closed(_ id: ObjectIdentifier) {
        open.withLockedValue { _ = $0.remove(id) }
    }
}
