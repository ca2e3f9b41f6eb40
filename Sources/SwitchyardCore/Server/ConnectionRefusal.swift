import NIOCore
import NIOHTTP1
import SwitchyardWire

/// The answer to a request refused at the HTTP level — malformed framing, an oversized head, a
/// head RFC 9112 says must not be served: the Anthropic error envelope with `Connection: close`,
/// then the connection is closed. (Before a path is known there is no other protocol to answer in.)
enum ConnectionRefusal {
    static func answer(_ context: ChannelHandlerContext, status: Int, type: AnthropicErrorType, message: String) {
        let requestID = Identifiers.requestID()
        let body = ErrorEnvelope.json(type: type, message: message, requestID: requestID)
        var headers = HTTPHeaders()
        headers.add(name: "request-id", value: requestID)
        headers.add(name: "content-type", value: "application/json")
        headers.add(name: "content-length", value: String(body.count))
        headers.add(name: "connection", value: "close")
        let head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: status), headers: headers)
        context.write(NIOAny(HTTPServerResponsePart.head(head)), promise: nil)
        context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil)
        context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil))).whenComplete { _ in context.close(promise: nil) }
    }
}
