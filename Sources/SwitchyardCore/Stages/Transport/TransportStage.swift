import AsyncHTTPClient
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import SwitchyardWire

/// Transport stage (always last): sends the translator's `UpstreamRequest` with the shared
/// pooled client and returns the upstream status, headers and body as a stream the translator
/// pulls until its commit point and then has delivered by callback. The route's
/// key is the only credential sent (`Authorization: Bearer` for OpenAI kinds, `x-api-key` for
/// Anthropic); client credentials never leave the gateway. Connect, first-byte and idle timeouts
/// come from the provider; failures become `UpstreamFailure`s classified for fallbacks.
///
/// It uses AsyncHTTPClient's delegate API (`UpstreamResponseReader`): the body parts reach the
/// reader on the connection's event loop, with no async sequence in between, and each endpoint
/// URL is parsed once per snapshot (`templates`), not once per request.
public struct TransportStage: Stage {
    let clients: HTTPClients
    let templates = RequestTemplates()
    static let userAgent = "switchyard/1.0"

    public init(clients: HTTPClients) {
        self.clients = clients
    }

    public func handle(_ call: Call, context: CallContext, next: Next) async throws -> Reply {
        guard let upstream = call.upstream, let resolved = context.target else {
            throw GatewayError.internalError("transport reached without an upstream request")
        }
        let provider = resolved.provider
        let started = MonotonicClock.nanos()
        let reader = UpstreamResponseReader(stats: context.stats) { Self.classify($0, phase: "reading the upstream's response") }
        let head: HTTPResponseHead
        do {
            var request = try templates.request(for: upstream.url)
            request.headers = Self.headers(upstream, call: call, resolved: resolved)
            request.body = .byteBuffer(ByteBuffer(bytes: upstream.body))
            let task = clients.client(for: provider).execute(
                request: request, delegate: reader, eventLoop: context.eventLoop.map { .delegate(on: $0) } ?? .indifferent, deadline: nil,
                logger: nil)
            reader.attach(task)
            // The first-byte timeout bounds the wait for the head only (a deadline would bound
            // the whole stream).
            let timer = task.eventLoop.scheduleTask(in: .nanoseconds(provider.timeouts.firstByte.nanoseconds)) {
                task.fail(reason: HTTPClientError.deadlineExceeded)
            }
            defer { timer.cancel() }
            head = try await reader.head()
        } catch {
            context.stats.addUpstreamTime(MonotonicClock.nanos() &- started)
            throw GatewayError.upstream(Self.classify(error, phase: "waiting for the upstream's response headers"), target: resolved.label)
        }
        context.stats.addUpstreamTime(MonotonicClock.nanos() &- started)
        var headers: [(String, String)] = []
        if let retry = head.headers.first(name: "retry-after") { headers.append(("retry-after", retry)) }
        if let type = head.headers.first(name: "content-type") { headers.append(("content-type", type)) }
        let stream = ReplyStream(source: reader) { outcome in
            // A reply not read to its end frees its upstream connection at once.
            if outcome != .completed { reader.cancel() }
        }
        return Reply(status: Int(head.status.code), headers: headers, body: .stream(stream))
    }

    /// The upstream request's headers: the route's key is the only credential.
    static func headers(_ upstream: UpstreamRequest, call: Call, resolved: ResolvedTarget) -> HTTPHeaders {
        let provider = resolved.provider
        var headers = HTTPHeaders()
        headers.reserveCapacity(6 + provider.headers.count + upstream.headers.count)
        headers.add(name: "content-type", value: "application/json")
        headers.add(name: "accept", value: upstream.stream ? "text/event-stream" : "application/json")
        headers.add(name: "user-agent", value: userAgent)
        if provider.kind == .anthropic {
            headers.add(name: "anthropic-version", value: call.anthropicVersion ?? "2023-06-01")
            if let beta = call.anthropicBeta { headers.add(name: "anthropic-beta", value: beta) }
        }
        if let key = resolved.apiKey {
            // Anthropic itself wants x-api-key; OpenRouter's Messages endpoint, like every
            // OpenAI-compatible one, a Bearer token.
            if provider.kind == .anthropic && provider.dialect != .openrouter {
                headers.add(name: "x-api-key", value: key.exposedValue)
            } else {
                headers.add(name: "authorization", value: "Bearer " + key.exposedValue)
            }
        }
        for (name, value) in provider.headers { headers.add(name: name, value: value) }
        for (name, value) in upstream.headers { headers.add(name: name, value: value) }
        return headers
    }

    /// Maps client and network errors to failure kinds without quoting anything secret.
    static func classify(_ error: Error, phase: String) -> UpstreamFailure {
        if let e = error as? HTTPClientError {
            switch e {
            case .deadlineExceeded: return UpstreamFailure(kind: .timeout, message: "upstream timed out \(phase) (first_byte timeout)")
            case .readTimeout: return UpstreamFailure(kind: .timeout, message: "upstream went silent \(phase) (idle timeout)")
            case .connectTimeout, .getConnectionFromPoolTimeout, .tlsHandshakeTimeout:
                return UpstreamFailure(kind: .connectError, message: "could not connect to the upstream (connect timeout)")
            case .remoteConnectionClosed:
                return UpstreamFailure(kind: .connectError, upstreamStatus: nil, message: "upstream closed the connection \(phase)")
            case .cancelled: return UpstreamFailure(kind: .connectError, message: "upstream request cancelled")
            default: return UpstreamFailure(kind: .connectError, message: "upstream HTTP error \(phase): \(e.shortDescription)")
            }
        }
        if error is NIOConnectionError || String(describing: type(of: error)).contains("Connection") {
            return UpstreamFailure(kind: .connectError, message: "could not connect to the upstream")
        }
        if let io = error as? IOError {
            let reason = io.errnoCode == ECONNRESET ? "connection reset" : io.errnoCode == ECONNREFUSED ? "connection refused" : "I/O error"
            return UpstreamFailure(kind: .connectError, message: "upstream connection failed \(phase) (\(reason))")
        }
        return UpstreamFailure(kind: .connectError, message: "upstream connection failed \(phase)")
    }
}

/// One parsed request per endpoint URL, made once per snapshot: each call copies it and sets
/// its headers and body, so no URL is parsed on the request path.
final class RequestTemplates: Sendable {
    private let table = NIOLockedValueBox<[String: HTTPClient.Request]>([:])

    func request(for url: String) throws -> HTTPClient.Request {
        if let template = table.withLockedValue({ $0[url] }) { return template }
        var template = try HTTPClient.Request(url: url, method: .POST)
        template.headers = [:]
        table.withLockedValue { $0[url] = template }
        return template
    }
}

extension HTTPClientError {
    /// The error's name without any request detail.
    var shortDescription: String {
        String(describing: self).split(separator: "(").first.map(String.init) ?? "error"
    }
}
