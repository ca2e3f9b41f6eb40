import Hummingbird
import HTTPTypes
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTPTypes

/// Per-connection handler that notices the client closing its side (FIN, with half-closure
/// allowed, or a reset) while a response may still be in progress, without consuming the
/// inbound stream — so keep-alive connections stay reusable after a streamed response.
final class ConnectionCloseDetector: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    func handlerAdded(context: ChannelHandlerContext) {
        ConnectionRegistry.shared.open(ObjectIdentifier(context.channel))
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let channelEvent = event as? ChannelEvent, case .inputClosed = channelEvent {
            ConnectionRegistry.shared.closed(ObjectIdentifier(context.channel))
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        ConnectionRegistry.shared.closed(ObjectIdentifier(context.channel), remove: true)
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        ConnectionRegistry.shared.closed(ObjectIdentifier(context.channel), remove: true)
    }
}

/// Which connections are open, and who wants to hear when one closes.
final class ConnectionRegistry: Sendable {
    static let shared = ConnectionRegistry()

    private struct Entry {
        var closed = false
        var listener: (@Sendable () -> Void)?
    }

    private let entries = NIOLockedValueBox<[ObjectIdentifier: Entry]>([:])

    func open(_ id: ObjectIdentifier) {
        entries.withLockedValue { $0[id] = Entry() }
    }

    func closed(_ id: ObjectIdentifier, remove: Bool = false) {
        let listener = entries.withLockedValue { table -> (@Sendable () -> Void)? in
            let l = table[id]?.listener
            if remove { table[id] = nil } else { table[id]?.closed = true; table[id]?.listener = nil }
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
