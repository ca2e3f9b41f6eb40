import AsyncHTTPClient
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The shared upstream HTTP clients, kept across reloads. AsyncHTTPClient's connect and idle
/// (read) timeouts and pool size are per client, so providers that agree on them share one;
/// usually there is exactly one.
public final class HTTPClients: Sendable {
    struct Key: Hashable {
        var connectMs: Int64
        var idleMs: Int64
        var poolSize: Int
    }

    private let clients = NIOLockedValueBox<[Key: HTTPClient]>([:])
    private let eventLoopGroup: any EventLoopGroup

    public init(eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.eventLoopGroup = eventLoopGroup
    }

    /// The client for a provider's timeouts and pool size. AsyncHTTPClient's read timeout also
    /// bounds the wait for response headers, so it is the longer of `first_byte` and `idle`; the
    /// stream relay enforces a shorter `idle` between chunks itself, and `first_byte` is the
    /// deadline of each request.
    public func client(for provider: Provider) -> HTTPClient {
        let t = provider.timeouts
        let key = Key(connectMs: t.connect.milliseconds, idleMs: max(t.idle, t.firstByte).milliseconds, poolSize: provider.maxConnections)
        return clients.withLockedValue { table in
            if let c = table[key] { return c }
            var configuration = HTTPClient.Configuration()
            configuration.timeout = .init(connect: .milliseconds(key.connectMs), read: .milliseconds(key.idleMs))
            configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: key.poolSize)
            configuration.decompression = .disabled
            configuration.redirectConfiguration = .disallow
            configuration.httpVersion = .http1Only
            // No spans: the gateway has no tracer, and the no-op one still costs per request.
            configuration.tracing.tracer = nil
            let client = HTTPClient(eventLoopGroup: eventLoopGroup, configuration: configuration)
            table[key] = client
            return client
        }
    }

    /// Shuts every client down (process exit).
    public func shutdown() async {
        let all = clients.withLockedValue { table -> [HTTPClient] in
            defer { table = [:] }
            return Array(table.values)
        }
        for client in all { try? await client.shutdown() }
    }
}

extension Duration {
    var milliseconds: Int64 {
        let (s, a) = components
        return s * 1000 + a / 1_000_000_000_000_000
    }
}
