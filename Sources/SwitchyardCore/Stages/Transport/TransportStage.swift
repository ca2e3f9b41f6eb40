import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import NIOPosix
import SwitchyardWire

/// Transport stage (always last): sends the translator's `UpstreamRequest` with the shared
/// pooled client and returns the upstream status, headers and body as a pull stream. The route's
/// key is the only credential sent (`Authorization: Bearer` for OpenAI kinds, `x-api-key` for
/// Anthropic); client credentials never leave the gateway. Connect, first-byte and idle timeouts
/// come from the provider; failures become `UpstreamFailure`s classified for fallbacks.
public struct TransportStage: Stage {
    let clients: HTTPClients
    static let userAgent = "switchyard/1.0"

    public init(clients: HTTPClients) {
        self.clients = clients
    }

    public func handle(_ call: Call, context: CallContext, next: Next) async throws -> Reply {
        guard let upstream = call.upstream, let resolved = context.target else {
            throw GatewayError.internalError("transport reached without an upstream request")
        }
        let provider = resolved.provider
        var request = HTTPClientRequest(url: upstream.url)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.headers.add(name: "accept", value: upstream.stream ? "text/event-stream" : "application/json")
        request.headers.add(name: "user-agent", value: Self.userAgent)
        if provider.kind == .anthropic {
            request.headers.add(name: "anthropic-version", value: call.anthropicVersion ?? "2023-06-01")
            if let beta = call.anthropicBeta { request.headers.add(name: "anthropic-beta", value: beta) }
        }
        if let key = resolved.apiKey {
            // Anthropic itself wants x-api-key; OpenRouter's Messages endpoint, like every
            // OpenAI-compatible one, a Bearer token.
            if provider.kind == .anthropic && provider.dialect != .openrouter {
                request.headers.add(name: "x-api-key", value: key.exposedValue)
            } else {
                request.headers.add(name: "authorization", value: "Bearer " + key.exposedValue)
            }
        }
        for (name, value) in provider.headers { request.headers.add(name: name, value: value) }
        for (name, value) in upstream.headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: upstream.body))

        let client = clients.client(for: provider)
        let started = MonotonicClock.nanos()
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: .nanoseconds(provider.timeouts.firstByte.nanoseconds))
        } catch {
            context.stats.addUpstreamTime(MonotonicClock.nanos() &- started)
            throw GatewayError.upstream(Self.classify(error, phase: "waiting for the upstream's response headers"), target: resolved.label)
        }
        context.stats.addUpstreamTime(MonotonicClock.nanos() &- started)
        var headers: [(String, String)] = []
        if let retry = response.headers.first(name: "retry-after") { headers.append(("retry-after", retry)) }
        if let type = response.headers.first(name: "content-type") { headers.append(("content-type", type)) }
        let body = UpstreamBody(response.body.makeAsyncIterator())
        let stats = context.stats
        let stream = ReplyStream(next: {
            let t0 = MonotonicClock.nanos()
            defer { stats.addUpstreamTime(MonotonicClock.nanos() &- t0) }
            do {
                return try await body.next()
            } catch let error as CancellationError {
                throw error
            } catch {
                throw Self.classify(error, phase: "reading the upstream's response")
            }
        })
        return Reply(status: Int(response.status.code), headers: headers, body: .stream(stream))
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

/// The upstream body iterator, pulled by one task at a time.
///
/// `@unchecked Sendable`: the iterator is mutable state without a lock. It is safe because exactly
/// one consumer pulls it, one `next()` after another (the translator before commit, then the
/// stream pump's producer task), never two at once.
final class UpstreamBody: @unchecked Sendable {
    private var iterator: HTTPClientResponse.Body.AsyncIterator
    init(_ iterator: HTTPClientResponse.Body.AsyncIterator) { self.iterator = iterator }
    func next() async throws -> ByteBuffer? { try await iterator.next() }
}

extension HTTPClientError {
    /// The error's name without any request detail.
    var shortDescription: String {
        String(describing: self).split(separator: "(").first.map(String.init) ?? "error"
    }
}
