/// A chain of stages composed once per config snapshot into a single entry point, so a request
/// pays one closure call per stage and nothing else.
public struct Pipeline: Sendable {
    private let entry: Next

    /// `stages` outermost first; the last one must answer without calling `next` (transport).
    public init(stages: [any Stage]) {
        var next: Next = { _, _ in throw GatewayError.internalError("the pipeline ended without a transport stage") }
        for stage in stages.reversed() {
            let inner = next
            next = { call, context in try await stage.handle(call, context: context, next: inner) }
        }
        entry = next
    }

    public func handle(_ call: Call, context: CallContext) async throws -> Reply {
        try await entry(call, context)
    }
}
