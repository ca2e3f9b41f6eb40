import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import SwitchyardWire

/// One call on a connection, from its complete request to the last byte of its reply: runs the
/// snapshot's pipeline in a task and writes the `Reply` on the channel — bytes at once, a stream
/// chunk by chunk as its pump hands them over on this connection's event loop (no task per
/// stream or chunk), under the channel's back-pressure. Every error it writes itself is in the
/// envelope of the endpoint's protocol. When the client goes away the task is cancelled (and
/// with it the upstream request) and a stream ends as abandoned.
///
/// `Sendable`: the channel context is loop-bound and touched only on its event loop; the
/// mutable state (the task, the stream, whether the client left) is behind a lock.
final class CallExchange: Sendable {
    private struct State {
        var clientGone = false
        /// The running pipeline task; dropped once it is done (see `run`).
        var task: Task<Void, Never>?
        var taskDone = false
        var stream: ReplyStream?
        var slot: AdmissionSlot?
    }

    private let context: NIOLoopBound<ChannelHandlerContext>
    private let eventLoop: any EventLoop
    private let state = NIOLockedValueBox(State())
    private let stats = CallStats()
    let snapshot: GatewaySnapshot
    let requestID: String
    let endpoint: Call.Endpoint
    /// The client asked to keep the connection open after this reply.
    let keepAlive: Bool
    let logger: Logger

    init(context: ChannelHandlerContext, snapshot: GatewaySnapshot, requestID: String, endpoint: Call.Endpoint, keepAlive: Bool, logger: Logger) {
        self.context = NIOLoopBound(context, eventLoop: context.eventLoop)
        self.eventLoop = context.eventLoop
        self.snapshot = snapshot
        self.requestID = requestID
        self.endpoint = endpoint
        self.keepAlive = keepAlive
        self.logger = logger
    }

    /// Runs `call` through the pipeline and writes its reply; `close` closes the connection after
    /// it (a refused request whose body was not read).
    func run(_ call: Call, close: Bool, slot: AdmissionSlot) {
        let callContext = CallContext(requestID: requestID, generation: snapshot.generation, logger: logger, stats: stats, eventLoop: eventLoop)
        let pipeline = snapshot.pipeline
        let task = Task { [self] in
            let reply: Reply
            var closeAfter = close
            do {
                reply = try await pipeline.handle(call, context: callContext)
            } catch {
                reply = errorReply(error)
                if error is CancellationError { closeAfter = true }
            }
            write(reply, close: closeAfter, slot: slot)
            // Drop the handle: a finished task keeps its frames' memory (several KB of stage
            // frames) for as long as anyone holds it, and a stream outlives its task by minutes.
            state.withLockedValue { s in
                s.task = nil
                s.taskDone = true
            }
        }
        let goneAlready = state.withLockedValue { s -> Bool in
            if !s.taskDone { s.task = task }
            return s.clientGone
        }
        if goneAlready { task.cancel() }
    }

    /// Writes an error decided before the pipeline ran (admission, size). On the event loop.
    func writeError(_ error: GatewayError, close: Bool, slot: AdmissionSlot?) {
        let reply = Reply.error(error, requestID: requestID, inbound: endpoint.inboundProtocol)
        guard case .bytes(let body) = reply.body else { return }
        writeWhole(status: reply.status, headers: responseHeaders(reply.headers, close: close), body: body)
        slot?.release()
    }

    /// The client closed the connection (or its side of it): stop the work for it.
    func clientWentAway() {
        let (task, stream) = state.withLockedValue { s -> (Task<Void, Never>?, ReplyStream?) in
            guard !s.clientGone else { return (nil, nil) }
            s.clientGone = true
            return (s.task, s.stream)
        }
        task?.cancel()
        stream?.finish(.abandoned)
    }

    private var clientGone: Bool { state.withLockedValue { $0.clientGone } }

    private func errorReply(_ error: any Error) -> Reply {
        let inbound = endpoint.inboundProtocol
        switch error {
        case let error as GatewayError:
            return .error(error, requestID: requestID, inbound: inbound)
        case is CancellationError:
            return .error(.invalidRequest("the client closed the connection"), requestID: requestID, inbound: inbound)
        default:
            logger.error("unexpected error", metadata: ["request_id": .string(requestID), "error": .string(String(describing: type(of: error)))])
            return .error(.internalError("internal gateway error"), requestID: requestID, inbound: inbound)
        }
    }

    private func write(_ reply: Reply, close: Bool, slot: AdmissionSlot) {
        let headers = responseHeaders(reply.headers, close: close)
        switch reply.body {
        case .bytes(let bytes):
            stats.markFirstByte()
            writeWhole(status: reply.status, headers: headers, body: bytes)
            slot.release()
        case .stream(let stream):
            let goneAlready = state.withLockedValue { s -> Bool in
                s.stream = stream
                s.slot = slot
                return s.clientGone
            }
            var head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: reply.status), headers: headers)
            head.headers.replaceOrAdd(name: "transfer-encoding", value: "chunked")
            onLoop { [head] in $0.write(NIOAny(HTTPServerResponsePart.head(head)), promise: nil) }
            if goneAlready { stream.finish(.abandoned) }
            stream.deliver(to: self)
        }
    }

    private func writeWhole(status: Int, headers: HTTPHeaders, body: [UInt8]) {
        var head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: status), headers: headers)
        head.headers.replaceOrAdd(name: "content-length", value: String(body.count))
        onLoop { [head] context in
            context.write(NIOAny(HTTPServerResponsePart.head(head)), promise: nil)
            context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
            context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)), promise: nil)
        }
    }

    /// The gateway's own headers, the reply's, and `connection: close` when the connection ends
    /// after this reply (`ConnectionCloseDetector` closes it once the reply is written).
    private func responseHeaders(_ replyHeaders: [(String, String)], close: Bool) -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.reserveCapacity(replyHeaders.count + 4)
        headers.add(name: "request-id", value: requestID)
        headers.add(name: "switchyard-config", value: snapshot.configTag)
        headers.add(contentsOf: replyHeaders)
        if close || !keepAlive { headers.replaceOrAdd(name: "connection", value: "close") }
        return headers
    }

    private func onLoop(_ body: @escaping @Sendable (ChannelHandlerContext) -> Void) {
        if eventLoop.inEventLoop {
            body(context.value)
        } else {
            eventLoop.execute { [context] in body(context.value) }
        }
    }
}

extension CallExchange: StreamConsumer {
    /// A streamed chunk: written and flushed at once; while the channel is not writable (a slow
    /// client) the pump holds the rest.
    func receive(_ bytes: ByteBuffer) -> EventLoopFuture<Void>? {
        guard eventLoop.inEventLoop else {
            let done = eventLoop.makePromise(of: Void.self)
            eventLoop.execute {
                if let full = self.receive(bytes) { full.cascade(to: done) } else { done.succeed() }
            }
            return done.futureResult
        }
        let context = context.value
        guard context.channel.isActive else { return nil }
        let written = context.writeAndFlush(NIOAny(HTTPServerResponsePart.body(.byteBuffer(bytes))))
        stats.markFirstByte()
        guard !context.channel.isWritable else { return nil }
        return written.recover { _ in }
    }

    /// The stream ended (or was cut): report how, free the slot, end the response.
    func finished(_ error: (any Error)?) {
        let (stream, slot, gone) = state.withLockedValue { s in
            defer {
                s.stream = nil
                s.slot = nil
            }
            return (s.stream, s.slot, s.clientGone)
        }
        stream?.finish(error == nil && !gone ? .completed : .abandoned)
        slot?.release()
        onLoop { $0.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)), promise: nil) }
    }
}
