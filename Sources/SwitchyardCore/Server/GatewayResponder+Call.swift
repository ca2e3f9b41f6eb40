import HTTPTypes
import Hummingbird
import NIOCore
import SwitchyardWire

/// Messages, count_tokens and chat completions: body, decode, route, pipeline, response.
extension GatewayResponder {
    func handleCall(
        _ request: Request, endpoint callEndpoint: Call.Endpoint, snapshot: GatewaySnapshot, requestID: String, headers: HTTPFields,
        slot: AdmissionSlot, connection: ObjectIdentifier
    ) async throws -> Response {
        let inbound = callEndpoint.inboundProtocol
        let credential = Self.credential(request.headers)
        let authOutcome = snapshot.authenticator.authenticate(credential)
        let call: Call
        var bodyUnread = false
        if case .rejected(let message) = authOutcome {
            // Authenticated from the headers alone: the body is neither read nor parsed, and the
            // connection is closed after the answer instead of draining it.
            call = CallSetup.unauthenticated(endpoint: callEndpoint, message: message)
            bodyUnread = request.headers[.contentLength] != "0"
        } else {
            let limit = snapshot.config.server.maxBodyBytes
            if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
                slot.release()
                return Self.errorResponse(.requestTooLarge(limit: limit), requestID: requestID, headers: headers, close: true, inbound: inbound)
            }
            var request = request
            let body: ByteBuffer
            do {
                body = try await request.collectBody(upTo: limit)
            } catch is NIOTooManyBytesError {
                slot.release()
                return Self.errorResponse(.requestTooLarge(limit: limit), requestID: requestID, headers: headers, close: true, inbound: inbound)
            } catch let error as HTTPError where error.status == .contentTooLarge {
                slot.release()
                return Self.errorResponse(.requestTooLarge(limit: limit), requestID: requestID, headers: headers, close: true, inbound: inbound)
            }
            call = body.withUnsafeReadableBytes { raw in
                CallSetup.call(
                    body: raw, endpoint: callEndpoint, credential: credential, authOutcome: authOutcome,
                    router: snapshot.router, authenticator: snapshot.authenticator,
                    anthropicBeta: request.headers[.anthropicBeta], anthropicVersion: request.headers[.anthropicVersion])
            }
            if body.readableBytes >= MemoryTrimmer.largeBodyBytes { snapshot.state.memoryTrimmer.largeBodyReleased() }
        }
        let context = CallContext(requestID: requestID, generation: snapshot.generation, logger: logger)
        // Watch for the client going away: that cancels the upstream request at once.
        let watch = DisconnectWatch(connection: connection, registry: snapshot.state.connections)
        let reply: Reply
        do {
            let work = Task { try await snapshot.pipeline.handle(call, context: context) }
            watch.onClose { work.cancel() }
            reply = try await withTaskCancellationHandler {
                try await work.value
            } onCancel: {
                work.cancel()
            }
        } catch {
            watch.finish()
            slot.release()
            switch error {
            case let error as GatewayError:
                return Self.errorResponse(error, requestID: requestID, headers: headers, close: bodyUnread, inbound: inbound)
            case is CancellationError:
                return Self.errorResponse(
                    .invalidRequest("the client closed the connection"), requestID: requestID, headers: headers, close: true, inbound: inbound)
            default:
                logger.error("unexpected error", metadata: ["request_id": .string(requestID), "error": .string(String(describing: type(of: error)))])
                return Self.errorResponse(.internalError("internal gateway error"), requestID: requestID, headers: headers, inbound: inbound)
            }
        }
        var response = Self.response(reply, stats: context.stats, headers: headers, slot: slot, watch: watch)
        if bodyUnread { response.headers[.connection] = "close" }
        return response
    }

    static func response(_ reply: Reply, stats: CallStats, headers: HTTPFields, slot: AdmissionSlot, watch: DisconnectWatch) -> Response {
        var fields = headers
        for (name, value) in reply.headers {
            if let n = HTTPField.Name(name) { fields.append(HTTPField(name: n, value: value)) }
        }
        let status = HTTPResponse.Status(code: reply.status)
        switch reply.body {
        case .bytes(let bytes):
            stats.markFirstByte()
            watch.finish()
            slot.release()
            return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        case .stream(let stream):
            watch.onClose { stream.finish(.abandoned) }
            return Response(
                status: status, headers: fields,
                body: .init { writer in
                    var outcome = StreamOutcome.abandoned
                    do {
                        while let chunk = try await stream.next() {
                            try await writer.write(chunk)
                            stats.markFirstByte()
                        }
                        if !watch.clientClosed { outcome = .completed }
                    } catch {}
                    stream.finish(outcome)
                    watch.finish()
                    slot.release()
                    try await writer.finish(nil)
                })
        }
    }

    static func json(_ status: Int, _ bytes: [UInt8], headers: HTTPFields) -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: .init(code: status), headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func errorResponse(
        _ error: GatewayError, requestID: String, headers: HTTPFields, close: Bool = false,
        inbound: InboundProtocol = .anthropic
    ) -> Response {
        let r = inbound.render(error, requestID: requestID)
        var fields = headers
        for (name, value) in r.headers {
            if let n = HTTPField.Name(name) { fields.append(HTTPField(name: n, value: value)) }
        }
        if close { fields[.connection] = "close" }
        return json(r.status, r.body, headers: fields)
    }
}
