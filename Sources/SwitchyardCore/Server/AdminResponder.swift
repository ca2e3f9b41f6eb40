import Foundation
import Hummingbird
import NIOCore
import SwitchyardWire

/// The operator's listener (`server.admin_listen`): `GET /metrics` and the usage page `GET /ui`.
/// Off loopback the page needs an admin token (HTTP Basic with the token as password, or Bearer).
struct AdminResponder: HTTPResponder {
    typealias Context = BasicRequestContext
    let holder: SnapshotHolder
    /// The listener is on a loopback address: the page is open to local users.
    let loopback: Bool

    func respond(to request: Request, context: Context) async throws -> Response {
        switch request.uri.path {
        case "/metrics": return MetricsResponder.response(holder.current.state.metrics)
        case "/ui", "/ui/": return await Self.page(request.headers, snapshot: holder.current, loopback: loopback)
        default:
            return Response(status: .notFound, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: "not found\n")))
        }
    }

    /// The usage page, or 401 with a Basic challenge.
    static func page(_ headers: HTTPFields, snapshot: GatewaySnapshot, loopback: Bool) async -> Response {
        if !loopback && !isAdmin(headers, snapshot) {
            return Response(
                status: .unauthorized, headers: [.contentType: "text/plain", .wwwAuthenticate: "Basic realm=\"switchyard\""],
                body: .init(byteBuffer: ByteBuffer(string: "the usage page needs an admin token (Basic, the token as password, or Bearer)\n")))
        }
        let html = UsagePage.render(await UsagePageSource.data(snapshot))
        return Response(
            status: .ok,
            headers: [
                .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
                .contentSecurityPolicy: "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
            ], body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static func isAdmin(_ headers: HTTPFields, _ snapshot: GatewaySnapshot) -> Bool {
        var token: String? = nil
        if let auth = headers[.authorization] {
            if auth.lowercased().hasPrefix("basic "), let decoded = Base64.decode(String(auth.dropFirst(6))) {
                token = decoded.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).last.map(String.init)
            } else if auth.lowercased().hasPrefix("bearer ") {
                token = String(auth.dropFirst(7)).trimmingCharacters(in: .whitespaces)
            }
        }
        guard snapshot.config.auth == .tokens, case .user(let user) = snapshot.authenticator.authenticate(token.map(Secret.init)) else { return false }
        return user.admin
    }
}

/// Standard base64 for HTTP Basic credentials.
enum Base64 {
    static func decode(_ text: String) -> String? {
        guard let data = Foundation.Data(base64Encoded: text.trimmingCharacters(in: .whitespaces)) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }
}
