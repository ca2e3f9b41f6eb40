/// A pipeline stage: a middleware over the gateway's own types.
///
/// A stage gets the call and its context, may answer on its own (auth rejecting, the limiter
/// refusing, count_tokens answered locally), or calls `next` — once, or several times as the
/// mapper does for fallbacks — and may look at or wrap the reply on its way back (the logger
/// timing it, the translator converting it). Stages hold only what is fixed per config snapshot;
/// state that must survive reloads (limiter buckets, cooldowns, the HTTP client) lives in
/// `GatewayState` and is shared by key. Each stage is unit-testable by calling `handle` with a
/// recording `next`.
public protocol Stage: Sendable {
    func handle(_ call: Call, context: CallContext, next: Next) async throws -> Reply
}

/// The rest of the pipeline after a stage.
public typealias Next = @Sendable (Call, CallContext) async throws -> Reply
