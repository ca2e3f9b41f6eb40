import Hummingbird
import NIOConcurrencyHelpers

/// Notices a client closing its connection while a streamed request is in progress — while the
/// upstream is still thinking, or mid-stream — and runs the registered cancellation at once, so
/// the upstream request is cancelled and limiter slots are released.
///
/// It reads the connection's inbound side in a task of its own for as long as the request lives
/// (Hummingbird's inbound-close handler; afterwards the connection is closed, as Hummingbird does
/// for every request that uses it). `finish()` must be awaited before the response completes.
final class DisconnectWatch: Sendable {
    private struct State {
        var closed = false
        var onClose: (@Sendable () -> Void)?
        var done = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = NIOLockedValueBox(State())
    private let task = NIOLockedValueBox<Task<Void, Never>?>(nil)

    init(request: Request) {
        let t = Task { [self] in
            _ = try? await request.body.consumeWithInboundCloseHandler { _ in
                await self.untilFinished()
            } onInboundClosed: {
                self.fire()
            }
        }
        task.withLockedValue { $0 = t }
    }

    /// Sets what to run when the client goes away (runs at once if it already has).
    func onClose(_ action: @escaping @Sendable () -> Void) {
        let runNow = state.withLockedValue { s -> Bool in
            if s.closed { return true }
            s.onClose = action
            return false
        }
        if runNow { action() }
    }

    var clientClosed: Bool { state.withLockedValue { $0.closed } }

    private func fire() {
        let action = state.withLockedValue { s -> (@Sendable () -> Void)? in
            s.closed = true
            defer { s.onClose = nil }
            return s.onClose
        }
        action?()
    }

    private func untilFinished() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now = state.withLockedValue { s -> Bool in
                if s.done { return true }
                s.waiter = c
                return false
            }
            if now { c.resume() }
        }
    }

    /// Stops watching and waits until the inbound side is no longer read.
    func finish() async {
        let waiter = state.withLockedValue { s -> CheckedContinuation<Void, Never>? in
            s.done = true
            s.onClose = nil
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume()
        await task.withLockedValue { $0 }?.value
    }
}
