import NIOCore

/// The receiving end of a streamed body handed over by callback: the upstream body to a relay
/// after the commit point, a relay's output to the connection. Calls come one at a time, in
/// order, on any thread (in the gateway: the client connection's event loop).
public protocol StreamConsumer: AnyObject, Sendable {
    /// The next bytes. A future holds further deliveries until it completes (the consumer is
    /// full); nil lets them go on.
    func receive(_ bytes: ByteBuffer) -> EventLoopFuture<Void>?
    /// The end, once, after the last `receive`: nil when the body is complete, else what cut it.
    func finished(_ error: (any Error)?)
}

/// A streamed body that can be pulled (`next`, until the reader has what it needs, such as the
/// first event) and then handed over to a consumer (`deliver`), which gets the rest by callback
/// with no task per chunk.
public protocol StreamSource: Sendable {
    /// The next bytes, or nil at the end.
    func next() async throws -> ByteBuffer?
    /// Hands the rest of the body to `consumer`; `next` is not called after this.
    func deliver(to consumer: any StreamConsumer)
}

/// A source that can only be pulled (test doubles, simple bodies): `deliver` pulls it in a task.
struct PulledSource: StreamSource {
    let pull: @Sendable () async throws -> ByteBuffer?

    func next() async throws -> ByteBuffer? { try await pull() }

    func deliver(to consumer: any StreamConsumer) {
        Task {
            do {
                while let chunk = try await pull() {
                    if let full = consumer.receive(chunk) { try? await full.get() }
                }
                consumer.finished(nil)
            } catch {
                consumer.finished(error)
            }
        }
    }
}
