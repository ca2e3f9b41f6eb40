import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// The pipeline of one client connection, for Hummingbird's server to run:
///
///     NIOHTTP1 codec + HTTPServerPipelineHandler (one request at a time, quiescing on shutdown)
///     HTTP1RequestHeadValidator   refuses heads RFC 9112 says must not be served
///     ConnectionCloseDetector     open-connection count, idle timeout, Connection: close, parse errors
///     RequestReadTimeoutHandler   slow request bodies
///     CallChannelHandler          POST /v1/messages, count_tokens, /v1/chat/completions → Core
///     HTTP1ToHTTPServerCodec      everything else → Hummingbird → GatewayResponder
///
/// The calls are served on the channel itself, without Hummingbird's per-request async
/// machinery; the rest of the API keeps Hummingbird's request and response types.
struct GatewayChannel: ServerChildChannel, HTTPChannelHandler {
    typealias Value = NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>

    let responder: HTTPChannelHandler.Responder
    let server: ServerSettings
    let holder: SnapshotHolder
    let admission: AdmissionGate
    let connections: ConnectionRegistry
    let logger: Logger

    /// The server builder for `Application(server:)`.
    static func builder(holder: SnapshotHolder, admission: AdmissionGate, connections: ConnectionRegistry, logger: Logger) -> HTTPServerBuilder {
        let server = holder.current.config.server
        return HTTPServerBuilder { responder in
            GatewayChannel(responder: responder, server: server, holder: holder, admission: admission, connections: connections, logger: logger)
        }
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            var limits = NIOHTTPDecoderLimitConfiguration()
            limits.maxHeaderFieldSize = server.maxHeaderBytes
            limits.maxHeaderListSize = server.maxHeaderBytes
            limits.maxHeaderFieldCount = 200
            let readTimeout = TimeAmount.nanoseconds(server.readTimeout.nanoseconds)
            let pipeline = channel.pipeline.syncOperations
            try pipeline.configureHTTPServerPipeline(
                withPipeliningAssistance: true, withErrorHandling: false, withOutboundHeaderValidation: false,
                withEncoderConfiguration: .init(), withDecoderLimitConfiguration: limits)
            try pipeline.addHandler(HTTP1RequestHeadValidator())
            try pipeline.addHandler(ConnectionCloseDetector(connections: connections, idleTimeout: readTimeout))
            try pipeline.addHandler(RequestReadTimeoutHandler(timeout: readTimeout))
            try pipeline.addHandler(CallChannelHandler(holder: holder, admission: admission, logger: self.logger))
            try pipeline.addHandler(HTTP1ToHTTPServerCodec(secure: false))
            return try NIOAsyncChannel(wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
        }
    }

    func handle(value: Value, logger: Logger) async {
        await handleHTTP(asyncChannel: value, logger: logger)
    }
}
