import HTTPTypes
import Hummingbird
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import SwitchyardWire

/// Per-connection handler. It notices the client closing its side (FIN, with half-closure
/// allowed, or a reset) while a response may still be in progress, without consuming the inbound
/// stream — so keep-alive connections stay reusable after a streamed response — and it answers
/// malformed HTTP (bad framing, oversized heads) with the Anthropic error envelope and a close,
/// where the HTTP decoder alone would send a bare 400.
final class ConnectionCloseDetector: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// The gateway's open connections, told of each open and close.
    let connections: ConnectionRegistry

    init(connections: ConnectionRegistry) {
        self.connections = connections
    }

    private var requestOpen = false
    private var responseOpen = false
    private var failed = false
    /// The response being written says `Connection: close`: close once it is written, rather
    /// than read (and drain) whatever request body is still arriving.
    private var closeAfterResponse = false

    func handlerAdded(context: ChannelHandlerContext) {
        connections.open(ObjectIdentifier(context.channel))
        // The head validator needs the HTTP/1 head as decoded (version, every Host): it goes in
        // front of the conversion to HTTP types.
        let pipeline = context.pipeline.syncOperations
        if let codec = try? pipeline.handler(type: HTTP1ToHTTPServerCodec.self) {
            try? pipeline.addHandler(HTTP1RequestHeadValidator(), position: .before(codec))
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: requestOpen = true
        case .end: requestOpen = false
        case .body: break
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let response):
            responseOpen = true
            closeAfterResponse = response.headerFields[.connection]?.lowercased() == "close"
        case .end:
            responseOpen = false
            if closeAfterResponse {
                let written = context.eventLoop.makePromise(of: Void.self)
                written.futureResult.whenComplete { _ in context.close(promise: nil) }
                if let promise { written.futureResult.cascade(to: promise) }
                context.writeAndFlush(data, promise: written)
                return
            }
        case .body: break
        }
        context.write(data, promise: promise)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let channelEvent = event as? ChannelEvent, case .inputClosed = channelEvent {
            connections.closed(ObjectIdentifier(context.channel))
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        guard let parseError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        guard !failed else { return }
        failed = true
        connections.closed(ObjectIdentifier(context.channel))
        // Mid-request or mid-response the only clean answer is to close.
        guard !requestOpen, !responseOpen else {
            context.close(promise: nil)
            return
        }
        let (status, type, message) = Self.describe(parseError)
        let requestID = Identifiers.requestID()
        let body = ErrorEnvelope.json(type: type, message: message, requestID: requestID)
        var fields = HTTPFields()
        fields[.requestID] = requestID
        fields[.contentType] = "application/json"
        fields[.contentLength] = String(body.count)
        fields[.connection] = "close"
        context.write(wrapOutboundOut(.head(HTTPResponse(status: .init(code: status), headerFields: fields))), promise: nil)
        context.write(wrapOutboundOut(.body(ByteBuffer(bytes: body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
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
        connections.closed(ObjectIdentifier(context.channel), remove: true)
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        connections.closed(ObjectIdentifier(context.channel), remove: true)
    }
}

/// Which connections are open, and who wants to hear when one closes.
final class ConnectionRegistry: Sendable {
    private struct Entry {
        var closed = false
        var listener: (@Sendable () -> Void)?
    }

    private let entries = NIOLockedValueBox<[ObjectIdentifier: Entry]>([:])

    func open(_ id: ObjectIdentifier) {
        entries.withLockedValue { $0[id] = Entry() }
    }

    /// Client connections open now.
    var openConnections: Int { entries.withLockedValue { $0.count } }

    func closed(_ id: ObjectIdentifier, remove: Bool = false) {
        let listener = entries.withLockedValue { table -> (@Sendable () -> Void)? in
            let l = table[id]?.listener
            if remove {
                table[id] = nil
            } else {
                table[id]?.closed = true
                table[id]?.listener = nil
            }
            return l
        }
        listener?()
    }

    /// Runs `action` when the connection closes (at once if it already has). Replaces any
    /// earlier listener: one request at a time is in progress on an HTTP/1 connection.
    func listen(_ id: ObjectIdentifier, _ action: @escaping @Sendable () -> Void) {
        let runNow = entries.withLockedValue { table -> Bool in
            guard let entry = table[id] else { return true }
            if entry.closed { return true }
            table[id]?.listener = action
            return false
        }
        if runNow { action() }
    }

    func stopListening(_ id: ObjectIdentifier) {
        entries.withLockedValue { $0[id]?.listener = nil }
    }
}

/// The request context: Hummingbird's basics plus the connection, for close detection.
public struct GatewayRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    let connection: ObjectIdentifier

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        connection = ObjectIdentifier(source.channel)
    }
}
