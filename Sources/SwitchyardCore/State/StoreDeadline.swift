import NIOConcurrencyHelpers

/// A store operation that did not finish in time.
struct StoreTimeout: Error {}

/// A deadline for store operations. PostgresNIO does not give up a connection attempt or a pool
/// wait when its task is cancelled, so the caller is answered by whichever of the operation and
/// the timer finishes first, and the slower one ends on its own (a task group would wait for
/// both; this is why the two tasks here are not structured).
enum StoreDeadline {
    static func run<T: Sendable>(
        within limit: Duration, _ body: @escaping @Sendable () async throws -> T, onTimeout: @escaping @Sendable () async -> Void = {}
    ) async throws -> T {
        let race = Race<T>()
        return try await withCheckedThrowingContinuation { continuation in
            race.set(continuation)
            let work = Task { race.finish(await Result(catching: body)) }
            Task {
                try? await Task.sleep(for: limit)
                if race.finish(.failure(StoreTimeout())) { await onTimeout() }
                work.cancel()
            }
        }
    }

    /// The first result answers the caller, once.
    final class Race<T: Sendable>: Sendable {
        private let state = NIOLockedValueBox<(continuation: CheckedContinuation<T, Error>?, result: Result<T, Error>?)>((nil, nil))

        func set(_ continuation: CheckedContinuation<T, Error>) {
            let early = state.withLockedValue { s -> Result<T, Error>? in
                if let r = s.result { return r }
                s.continuation = continuation
                return nil
            }
            if let early { continuation.resume(with: early) }
        }

        /// True when this result was the first.
        @discardableResult
        func finish(_ result: Result<T, Error>) -> Bool {
            let (first, waiting) = state.withLockedValue { s -> (Bool, CheckedContinuation<T, Error>?) in
                guard s.result == nil else { return (false, nil) }
                s.result = result
                defer { s.continuation = nil }
                return (true, s.continuation)
            }
            waiting?.resume(with: result)
            return first
        }
    }
}

extension Result where Failure == Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
