/// Runs a store's operations one at a time, each to its end: a transaction on the store's one
/// connection is never interleaved with another operation's statements, and a caller's task
/// being cancelled (a shutdown) cannot stop one half way.
actor SerialGate {
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func run<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        // An unstructured task does not inherit the caller's cancellation.
        try await Task {
            await self.acquire()
            defer { self.release() }
            return try await body()
        }.value
    }

    private func acquire() async {
        if !busy {
            busy = true
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    private func release() {
        if waiting.isEmpty { busy = false } else { waiting.removeFirst().resume() }
    }
}
