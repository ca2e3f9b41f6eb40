import Foundation
import Logging
import NIOConcurrencyHelpers
import PostgresNIO
import ServiceLifecycle

/// Limits, budgets and cooldowns shared by every replica through PostgreSQL (scale-out.md).
///
/// The request path makes one call, `admit`, which is one PostgreSQL round trip
/// (`switchyard_admit`): rpm, tpm, concurrent slots and budget reservations of every scope the
/// request falls under, checked and taken together. Everything else runs in this service, off
/// the request path: settling at the end of each reply, the heartbeat that keeps this replica's
/// slots and reservations alive (a dead replica's expire within `leaseTTLms`), cleanup, and the
/// cooldowns other replicas publish.
///
/// While PostgreSQL does not answer (within `queryTimeout`), `admit` says `.unavailable` at once
/// (the limiter then uses this replica's own counters, or refuses, as `state.unavailable` says);
/// a probe notices its return. Each transition is logged once and shown in `switchyard_state_up`.
public final class SharedLimits: Service, Sendable {
    /// One limit that refused a request.
    public struct Refusal: Sendable {
        public var scopeKey: String
        public var kind: String
        public var limit: Int64
        public var used: Int64
        public var retryAfterMs: Int64
    }

    /// What an admitted request holds until it ends.
    public struct Ticket: Sendable {
        /// The rate-limited scopes, the second of the admission and the tokens reserved there.
        var rateScopes: [String]
        var second: Int64
        var reservedTokens: Int64
        var leaseIDs: [Int64]
        var reservationIDs: [Int64]
    }

    public enum Outcome: Sendable {
        case admitted(Ticket)
        case refused(Refusal)
        case unavailable
    }

    enum Work: Sendable {
        /// `tokens` -1: the real count is unknown, the reservation stays.
        case settle(Ticket, tokens: Int64, costMicro: Int64)
        case cooldown(target: String, untilMs: Int64)
    }

    static let leaseTTLms: Int64 = 30_000
    static let heartbeatMs: Int64 = 10_000
    static let queryTimeout: Duration = .seconds(2)
    /// Settlements kept for a store that is down, replayed when it is back.
    static let maxPending = 100_000

    let client: PostgresClient
    let poolSize: Int
    /// This process's name on its slots: the instance plus a random suffix, so a restarted
    /// replica of the same name never renews its predecessor's slots.
    let holder: String
    let logger: Logger
    let metrics: Metrics
    let wallClockMs: @Sendable () -> Int64
    /// The gateway's cooldowns: others' are adopted into it, its own published from it.
    let cooldowns: CooldownTable
    let up = NIOLockedValueBox(true)
    /// Slots and reservations this replica holds now: the heartbeat renews these and no others.
    let held = NIOLockedValueBox<(leases: Set<Int64>, reservations: Set<Int64>)>(([], []))
    /// Settlements and cooldowns to write, in order (bounded); kept while the store is down.
    let outbox = NIOLockedValueBox<[Work]>([])
    /// Wakes the writer when the outbox has work.
    let wake: AsyncStream<Void>
    let wakeUp: AsyncStream<Void>.Continuation
    /// Settlements written per round trip at most.
    static let batch = 500

    public init(
        url: String, pool: Int, instance: String, cooldowns: CooldownTable, metrics: Metrics, logger: Logger,
        wallClockMs: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }
    ) throws {
        guard let c = URLComponents(string: url), let host = c.host, !host.isEmpty else {
            throw PostgresStoreURLError(url: url)
        }
        let database = c.path.hasPrefix("/") ? String(c.path.dropFirst()) : c.path
        var config = PostgresClient.Configuration(
            host: host, port: c.port ?? 5432, username: c.user ?? "postgres", password: c.password,
            database: database.isEmpty ? nil : database, tls: .disable)
        config.options.maximumConnections = pool
        poolSize = pool
        config.options.connectTimeout = .seconds(2)
        // The pool logs every failed connection attempt; the outage is logged once, here.
        var poolLogger = Logger(label: "switchyard.postgres.pool")
        poolLogger.logLevel = .critical
        client = PostgresClient(configuration: config, backgroundLogger: poolLogger)
        holder = "\(instance)/\(UInt32.random(in: 0...UInt32.max))"
        self.logger = logger
        self.metrics = metrics
        self.wallClockMs = wallClockMs
        self.cooldowns = cooldowns
        (wake, wakeUp) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        metrics.stateUp(true)
        cooldowns.observeFailures { [weak self] target, nanos in
            guard let self else { return }
            let ms = Int64(min(nanos / 1_000_000, UInt64(Int64.max / 2)))
            self.post(.cooldown(target: target, untilMs: self.wallClockMs().addingSaturated(ms)))
        }
    }

    /// Whether PostgreSQL answered the last time it was asked.
    public var isUp: Bool { up.withLockedValue { $0 } }

    // MARK: Request path

    /// Checks and takes every limit of a request in one round trip.
    public func admit(_ scopes: [LimiterState.Scope], tokens: Int, budgets: [BudgetBook.Scope], reserveMicro: Int64, nowMs: Int64) async -> Outcome {
        guard isUp else { return .unavailable }
        let limits = scopes.sorted { $0.key < $1.key }
        let budgets = budgets.sorted { $0.key < $1.key }
        var binds = PostgresBindings(capacity: 14)
        binds.append(nowMs)
        binds.append(holder)
        binds.append(Self.leaseTTLms)
        binds.append(Int64(max(tokens, 0)))
        binds.append(limits.map(\.key))
        binds.append(limits.map { Int64($0.limits.rpm ?? -1) })
        binds.append(limits.map { Int64($0.limits.tpm ?? -1) })
        binds.append(limits.map { Int64($0.limits.concurrent ?? -1) })
        binds.append(budgets.map(\.key))
        binds.append(budgets.map { BudgetPeriods.start($0.budget.period, now: nowMs / 1000).multipliedSaturated(by: 1000) })
        binds.append(budgets.map(\.budget.limitMicroUSD))
        binds.append(budgets.map { $0.key.hasPrefix("user:") ? String($0.key.dropFirst(5)) : "" })
        binds.append(budgets.map { $0.key.hasPrefix("route:") ? String($0.key.dropFirst(6)) : "" })
        binds.append(max(reserveMicro, 0))
        let query = PostgresQuery(unsafeSQL: "SELECT * FROM switchyard_admit($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)", binds: binds)
        do {
            let outcome = try await withTimeout { [client] in
                let rows = try await client.query(query)
                for try await (ok, scope, kind, limit, used, retry, leases, reservations) in rows.decode(
                    (Bool, String?, String?, Int64, Int64, Int64, [Int64], [Int64]).self)
                {
                    if ok {
                        let rated = limits.filter { $0.limits.rpm != nil || $0.limits.tpm != nil }.map(\.key)
                        return Outcome.admitted(
                            Ticket(
                                rateScopes: rated, second: nowMs / 1000, reservedTokens: Int64(max(tokens, 0)), leaseIDs: leases,
                                reservationIDs: reservations))
                    }
                    return .refused(Refusal(scopeKey: scope ?? "", kind: kind ?? "", limit: limit, used: used, retryAfterMs: retry))
                }
                return Outcome.unavailable
            }
            markUp()
            if case .admitted(let t) = outcome {
                held.withLockedValue { h in
                    h.leases.formUnion(t.leaseIDs)
                    h.reservations.formUnion(t.reservationIDs)
                }
            }
            return outcome
        } catch {
            await failed(error)
            return .unavailable
        }
    }

    /// Spend and live reservations of budget scopes in their current periods, as every replica
    /// sees them; nil when PostgreSQL does not answer. A scope no request used yet this period
    /// is missing (the caller shows the ledger's figure).
    public func budgetUse(_ scopes: [BudgetBook.Scope], nowMs: Int64) async -> [String: (spent: Int64, reserved: Int64)]? {
        guard isUp, !scopes.isEmpty else { return scopes.isEmpty ? [:] : nil }
        var binds = PostgresBindings(capacity: 3)
        binds.append(scopes.map(\.key))
        binds.append(scopes.map { BudgetPeriods.start($0.budget.period, now: nowMs / 1000).multipliedSaturated(by: 1000) })
        binds.append(nowMs)
        let query = PostgresQuery(
            unsafeSQL: """
                SELECT s.scope, a.spent_micro, (SELECT coalesce(sum(r.amount_micro), 0)::bigint FROM budget_reservations r
                        WHERE r.scope = s.scope AND r.period_start_ms = s.period AND r.expires_at_ms > $3)
                  FROM unnest($1::text[], $2::bigint[]) AS s(scope, period)
                  JOIN budget_accounts a ON a.scope = s.scope AND a.period_start_ms = s.period
                """, binds: binds)
        do {
            return try await withTimeout { [client] in
                var out: [String: (spent: Int64, reserved: Int64)] = [:]
                for try await (scope, spent, reserved) in try await client.query(query).decode((String, Int64, Int64).self) {
                    out[scope] = (spent, reserved)
                }
                return out
            }
        } catch {
            await failed(error)
            return nil
        }
    }

    /// Gives back what a request held, with its real token count (nil: keep the reservation) and
    /// cost; off the request path.
    public func settle(_ ticket: Ticket, tokens: Int?, costMicro: Int64) {
        held.withLockedValue { h in
            h.leases.subtract(ticket.leaseIDs)
            h.reservations.subtract(ticket.reservationIDs)
        }
        post(.settle(ticket, tokens: tokens.map(Int64.init) ?? -1, costMicro: costMicro))
    }

    // MARK: Service

    /// Runs the pool, the settle queue and the maintenance loop; on graceful shutdown it writes
    /// what is queued, then closes the pool.
    public func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.client.run() }
            group.addTask {
                await withGracefulShutdownHandler {
                    await self.drain()
                } onGracefulShutdown: {
                    self.wakeUp.finish()
                }
            }
            group.addTask {
                _ = await cancelWhenGracefulShutdown { await self.maintain() }
            }
            // The pool stops once the queue is written and maintenance has ended.
            _ = await group.next()
            _ = await group.next()
            group.cancelAll()
        }
    }
}

/// A `state.url` that is not a usable PostgreSQL URL.
struct PostgresStoreURLError: Error {
    var url: String
}

extension Int64 {
    func multipliedSaturated(by other: Int64) -> Int64 {
        let (product, overflow) = multipliedReportingOverflow(by: other)
        return overflow ? (self < 0) != (other < 0) ? .min : .max : product
    }
}
