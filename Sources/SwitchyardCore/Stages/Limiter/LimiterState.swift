import Foundation
import NIOConcurrencyHelpers

/// Limiter windows and in-flight counts, keyed by user and route, kept across reloads.
///
/// `rpm` is a sliding log of admission times (exact: never more than N in any 60 s window);
/// `tpm` a sliding log of token reservations that are settled with real usage when the reply
/// ends; `concurrent` a counter released on completion, error or disconnect. All checks of one
/// request happen under one lock, so concurrent requests cannot overshoot.
///
/// `@unchecked Sendable`: `buckets`, and every `Bucket` and `Reservation` reachable from it or from
/// a `Ticket`, are read and written only while holding `lock` (admit, finish, inFlight), so no two
/// threads touch them at once.
public final class LimiterState: @unchecked Sendable {
    public static let window: UInt64 = 60_000_000_000

    /// Mutated only under `LimiterState.lock` (see the class comment).
    final class Bucket: @unchecked Sendable {
        var admissions: [UInt64] = []  // times, oldest first
        var reservations: [Reservation] = []  // oldest first
        var inFlight = 0
    }

    /// Mutated only under `LimiterState.lock` (see the class comment).
    final class Reservation: @unchecked Sendable {
        let time: UInt64
        var tokens: Int
        init(time: UInt64, tokens: Int) {
            self.time = time
            self.tokens = tokens
        }
    }

    /// One limited scope of a request (the user, the route) with its limits.
    public struct Scope: Sendable {
        public var key: String
        public var limits: Limits
        public var label: String
        public init(key: String, limits: Limits, label: String) {
            self.key = key
            self.limits = limits
            self.label = label
        }
    }

    /// A rejection: which limit, and when admission becomes possible.
    public struct Rejection: Error, Sendable {
        public var scope: String
        public var limit: String
        public var retryAfterNanos: UInt64
        public var headers: [(String, String)]
        /// Set when the request alone needs more tokens than the whole tpm limit (needed, limit):
        /// waiting cannot help, so it is refused for good.
        public var neverFits: (needed: Int, limit: Int)? = nil
    }

    /// An admitted request's claims, to settle and release.
    public final class Ticket: Sendable {
        let claims: [(Bucket, Reservation?, Bool)]
        let released = NIOLockedValueBox(false)
        public let headers: [(String, String)]
        init(claims: [(Bucket, Reservation?, Bool)], headers: [(String, String)]) {
            self.claims = claims
            self.headers = headers
        }
    }

    private let lock = NIOLock()
    private var buckets: [String: Bucket] = [:]

    public init() {}

    /// Admits a request into every scope, or rejects it with the longest wait (a request that
    /// can never fit wins over any wait). `tokens` is the reservation, clamped at zero.
    public func admit(_ scopes: [Scope], tokens requested: Int, now: UInt64) throws(Rejection) -> Ticket {
        let tokens = max(requested, 0)
        lock.lock()
        defer { lock.unlock() }
        do {
            var worst: Rejection? = nil
            var headers: [(String, String)] = []
            let resolved = scopes.map { scope -> (Scope, Bucket) in
                let b =
                    buckets[scope.key]
                    ?? {
                        let n = Bucket()
                        buckets[scope.key] = n
                        return n
                    }()
                prune(b, now: now)
                return (scope, b)
            }
            for (scope, b) in resolved {
                if let rpm = scope.limits.rpm {
                    let remaining = rpm - b.admissions.count
                    let reset = b.admissions.first.map { $0.addingSaturated(Self.window) } ?? now.addingSaturated(Self.window)
                    if remaining <= 0 {
                        worst = Self.worse(worst, Rejection(scope: scope.label, limit: "rpm", retryAfterNanos: Self.nanos(from: now, to: reset), headers: []))
                    }
                    headers += Self.headers("requests", limit: rpm, remaining: max(remaining - 1, 0), resetNanos: reset, now: now)
                }
                if let tpm = scope.limits.tpm {
                    let used = b.reservations.reduce(0) { $0.addingSaturated($1.tokens) }
                    if tokens > tpm {
                        // No wait can make room for it: refuse for good, saying so.
                        worst = Self.worse(
                            worst,
                            Rejection(
                                scope: scope.label, limit: "tpm", retryAfterNanos: Self.window, headers: [],
                                neverFits: (tokens, tpm)))
                    } else if used.addingSaturated(tokens) > tpm {
                        // Wait until enough old reservations expire to fit this one.
                        var freed = 0
                        var wait = Self.window
                        for r in b.reservations {
                            freed = freed.addingSaturated(r.tokens)
                            if used.subtractingSaturated(freed).addingSaturated(tokens) <= tpm || freed >= used {
                                wait = Self.nanos(from: now, to: r.time.addingSaturated(Self.window))
                                break
                            }
                        }
                        worst = Self.worse(worst, Rejection(scope: scope.label, limit: "tpm", retryAfterNanos: wait, headers: []))
                    }
                    let reset = b.reservations.first.map { $0.time.addingSaturated(Self.window) } ?? now.addingSaturated(Self.window)
                    headers += Self.headers(
                        "tokens", limit: tpm, remaining: max(tpm.subtractingSaturated(used).subtractingSaturated(tokens), 0),
                        resetNanos: reset, now: now)
                }
                if let concurrent = scope.limits.concurrent, b.inFlight >= concurrent {
                    worst = Self.worse(worst, Rejection(scope: scope.label, limit: "concurrent", retryAfterNanos: 1_000_000_000, headers: []))
                }
            }
            if var worst {
                worst.headers = headers
                throw worst
            }
            var claims: [(Bucket, Reservation?, Bool)] = []
            for (scope, b) in resolved {
                if scope.limits.rpm != nil { b.admissions.append(now) }
                var reservation: Reservation? = nil
                if scope.limits.tpm != nil {
                    reservation = Reservation(time: now, tokens: tokens)
                    b.reservations.append(reservation!)
                }
                let concurrent = scope.limits.concurrent != nil
                if concurrent { b.inFlight += 1 }
                claims.append((b, reservation, concurrent))
            }
            return Ticket(claims: claims, headers: headers)
        }
    }

    /// Settles the token reservation with real usage and releases the concurrency slot (once).
    public func finish(_ ticket: Ticket, actualTokens: Int?) {
        let first = ticket.released.withLockedValue { done -> Bool in
            defer { done = true }
            return !done
        }
        guard first else { return }
        lock.withLock {
            for (bucket, reservation, concurrent) in ticket.claims {
                if let reservation, let actualTokens { reservation.tokens = max(actualTokens, 0) }
                if concurrent { bucket.inFlight = max(bucket.inFlight - 1, 0) }
            }
        }
    }

    /// In-flight requests of a scope (for tests and metrics).
    public func inFlight(_ key: String) -> Int {
        lock.withLock { buckets[key]?.inFlight ?? 0 }
    }

    private func prune(_ b: Bucket, now: UInt64) {
        let cutoff = now > Self.window ? now - Self.window : 0  // never wraps
        if let i = b.admissions.firstIndex(where: { $0 > cutoff }) {
            if i > 0 { b.admissions.removeFirst(i) }
        } else {
            b.admissions.removeAll()
        }
        if let i = b.reservations.firstIndex(where: { $0.time > cutoff }) {
            if i > 0 { b.reservations.removeFirst(i) }
        } else {
            b.reservations.removeAll()
        }
    }

    private static func worse(_ a: Rejection?, _ b: Rejection) -> Rejection {
        guard let a else { return b }
        if (a.neverFits == nil) != (b.neverFits == nil) { return a.neverFits != nil ? a : b }
        return b.retryAfterNanos > a.retryAfterNanos ? b : a
    }

    /// The time from `now` until `time`, zero when it has passed.
    static func nanos(from now: UInt64, to time: UInt64) -> UInt64 { time > now ? time - now : 0 }

    static func headers(_ kind: String, limit: Int, remaining: Int, resetNanos: UInt64, now: UInt64) -> [(String, String)] {
        let seconds = Int(nanos(from: now, to: resetNanos) / 1_000_000_000) + 1
        return [
            ("anthropic-ratelimit-\(kind)-limit", String(limit)),
            ("anthropic-ratelimit-\(kind)-remaining", String(remaining)),
            ("anthropic-ratelimit-\(kind)-reset", Timestamps.rfc3339(Int64(time(nil)) + Int64(seconds))),
        ]
    }
}
