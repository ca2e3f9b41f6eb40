import NIOCore
import NIOHTTP1
import SwitchyardWire

/// Checks each HTTP/1 request head where the HTTP version and every raw header are still
/// visible (before the conversion to HTTP types, which keeps only the first `Host`), and refuses
/// what RFC 9112 says a server must not serve: a missing `Host` on HTTP/1.1 (§3.2), more than one
/// `Host`, and a transfer coding other than plain `chunked` (§6.1: the gateway would otherwise
/// read a gzip-coded body as if it were not). A refused request gets the Anthropic envelope and
/// the connection is closed; nothing of it reaches the server.
final class HTTP1RequestHeadValidator: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// After a refusal, the rest of the connection's input is ignored until it closes.
    private var refused = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        if case .head(let head) = unwrapInboundIn(data), let problem = Self.problem(head) {
            refused = true
            ConnectionRefusal.answer(context, status: problem.status, type: .invalidRequest, message: problem.message)
            return
        }
        context.fireChannelRead(data)
    }

    /// What is wrong with a head, if anything.
    static func problem(_ head: HTTPRequestHead) -> (status: Int, message: String)? {
        let hosts = head.headers["host"]
        if hosts.count > 1 { return (400, "malformed HTTP request: more than one Host header") }
        if hosts.isEmpty && (head.version.major > 1 || head.version.minor >= 1) {
            return (400, "malformed HTTP request: HTTP/1.1 requires a Host header")
        }
        let codings = head.headers["transfer-encoding"]
        if !codings.isEmpty {
            let only = codings.count == 1 ? codings[0].trimmingCharacters(in: .whitespaces).lowercased() : ""
            if only != "chunked" { return (501, "unsupported Transfer-Encoding: the gateway accepts only chunked") }
        }
        return nil
    }
}
