import HTTPTypes
import Hummingbird
import NIOCore
import SwitchyardWire

/// Hummingbird responses: JSON bodies and errors in the envelope of the client's protocol.
extension GatewayResponder {
    static func json(_ status: Int, _ bytes: [UInt8], headers: HTTPFields) -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: .init(code: status), headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func errorResponse(
        _ error: GatewayError, requestID: String, headers: HTTPFields, inbound: InboundProtocol = .anthropic
    ) -> Response {
        let r = inbound.render(error, requestID: requestID)
        var fields = headers
        for (name, value) in r.headers {
            if let n = HTTPField.Name(name) { fields.append(HTTPField(name: n, value: value)) }
        }
        return json(r.status, r.body, headers: fields)
    }
}
