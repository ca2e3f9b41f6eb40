import Hummingbird
import NIOCore

/// Serves `GET /metrics` alone, for `server.metrics_listen`.
struct MetricsResponder: HTTPResponder {
    typealias Context = BasicRequestContext

    func respond(to request: Request, context: Context) async throws -> Response {
        guard request.uri.path == "/metrics" else {
            return Response(status: .notFound, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: "not found\n")))
        }
        return MetricsResponder.response()
    }

    static func response() -> Response {
        Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(bytes: Metrics.shared.render())))
    }
}
