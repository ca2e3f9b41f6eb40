import Hummingbird
import NIOCore

/// The Prometheus text answer of `GET /metrics` (on the main listener or `server.admin_listen`).
enum MetricsResponder {
    static func response(_ metrics: Metrics) -> Response {
        Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(bytes: metrics.render())))
    }
}
