import NIOConcurrencyHelpers

/// Notices a client closing its connection while a streamed request is in progress — while the
/// upstream is still thinking, or mid-stream — and runs the registered cancellation at once, so
/// the upstream request is cancelled and limiter slots are released. Fed by
/// `ConnectionCloseDetector`; the connection stays usable for keep-alive.
final class DisconnectWatch: Sendable {
    private struct State {
        var closed = false
        var finished = false
        var onClose: (@Sendable () -> Void)?
    }

    private let state = NIOLockedValueBox(State())
    private let connection: ObjectIdentifier
    private let registry: ConnectionRegistry

    init(connection: ObjectIdentifier, registry: ConnectionRegistry) {
        self.connection = connection
        self.registry = registry
        registry.listen(connection) { [weak self] in self?.fire() }
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
            guard !s.finished else { return nil }
            s.closed = true
            defer { s.onClose = nil }
            return s.onClose
        }
        action?()
    }

    /// Stops watching (the response is complete).
    func finish() {
        state.withLockedValue { s in
            s.finished = true
            s.onClose = nil
        }
        registry.stopListening(connection)
    }
}
