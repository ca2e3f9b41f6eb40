import PostgresNIO

/// The shared state's background upkeep: the heartbeat of this replica's slots, cleanup, the
/// others' cooldowns, and noticing PostgreSQL going away and coming back.
extension SharedLimits {
    /// Every second: adopt the others' cooldowns (or probe a store that is down, replaying what
    /// waited once it answers); every `heartbeatMs`: renew this replica's slots and clean up.
    func maintain() async {
        var lastHeartbeat: Int64 = 0
        while !Task.isCancelled {
            do {
                if isUp {
                    let now = wallClockMs()
                    try await adoptCooldowns(nowMs: now)
                    if now - lastHeartbeat >= Self.heartbeatMs {
                        try await heartbeat(nowMs: now)
                        lastHeartbeat = now
                    }
                } else {
                    try await withTimeout { [client] in _ = try await client.query("SELECT 1") }
                    markUp()
                    try await heartbeat(nowMs: wallClockMs())
                    wakeUp.yield(())  // write what waited
                }
            } catch {
                await failed(error)
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    func heartbeat(nowMs: Int64) async throws {
        let (leases, reservations) = held.withLockedValue { (Array($0.leases), Array($0.reservations)) }
        for (sql, ids) in zip(SharedStateSchema.heartbeatSQL, [leases, reservations]) where !ids.isEmpty {
            var binds = PostgresBindings(capacity: 2)
            try binds.append(nowMs + Self.leaseTTLms)
            try binds.append(ids)
            let query = PostgresQuery(unsafeSQL: sql, binds: binds)
            try await withTimeout { [client] in _ = try await client.query(query) }
        }
        for sql in SharedStateSchema.cleanupSQL {
            var binds = PostgresBindings(capacity: 1)
            try binds.append(nowMs)
            let query = PostgresQuery(unsafeSQL: sql, binds: binds)
            try await withTimeout { [client] in _ = try await client.query(query) }
        }
    }

    func adoptCooldowns(nowMs: Int64) async throws {
        var binds = PostgresBindings(capacity: 1)
        try binds.append(nowMs)
        let query = PostgresQuery(unsafeSQL: "SELECT target, until_ms FROM target_cooldowns WHERE until_ms > $1", binds: binds)
        let found = try await withTimeout { [client] in
            var out: [(String, Int64)] = []
            for try await (target, until) in try await client.query(query).decode((String, Int64).self) { out.append((target, until)) }
            return out
        }
        let mono = MonotonicClock.nanos()
        for (target, until) in found {
            cooldowns.adopt(target, until: mono.addingSaturated(UInt64(max(until - nowMs, 0)) * 1_000_000))
        }
    }

    // MARK: Up and down

    func markUp() {
        let changed = up.withLockedValue { u -> Bool in
            defer { u = true }
            return !u
        }
        guard changed else { return }
        metrics.stateUp(true)
        logger.notice("shared state: PostgreSQL answers again; limits are shared across replicas again")
    }

    /// An operation failed: PostgreSQL is taken for down only when it does not answer a probe
    /// either (a timeout counts at once), so one failed query while it is up — a stale pooled
    /// connection, a conflict — is not reported as an outage.
    func failed(_ error: Error) async {
        guard isUp else { return }
        if !(error is StoreTimeout), (try? await StoreDeadline.run(within: Self.queryTimeout, { [client] in _ = try await client.query("SELECT 1") })) != nil {
            logger.warning(
                "shared state: one PostgreSQL operation failed while it answers; that request used this replica's own counters",
                metadata: ["error": .string(Self.describe(error))])
            return
        }
        markDown(error)
    }

    /// The error's kind and SQLSTATE, never its text (it may quote the connection's details).
    static func describe(_ error: Error) -> String {
        guard let e = error as? PSQLError else { return String(describing: type(of: error)) }
        return "PSQLError \(e.code)" + (e.serverInfo?[.sqlState].map { " sqlstate \($0)" } ?? "")
    }

    func markDown(_ error: Error) {
        let changed = up.withLockedValue { u -> Bool in
            defer { u = false }
            return u
        }
        guard changed else { return }
        metrics.stateUp(false)
        logger.error(
            "shared state: PostgreSQL does not answer; limits fall back to this replica's own counters until it does",
            metadata: ["error": .string(Self.describe(error))])
    }

    /// Runs `body`, or throws `StoreTimeout` after `queryTimeout`. A pooled connection that
    /// PostgreSQL closed while it was down or restarting fails once when next used; that is not
    /// an outage, so the operation is tried again on another connection (as many times as the
    /// pool can hold stale ones) before it counts as a failure.
    func withTimeout<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        var stale = 0
        while true {
            do {
                return try await StoreDeadline.run(within: Self.queryTimeout, body)
            } catch let error as PSQLError where stale < poolSize && Self.isStaleConnection(error) {
                stale += 1
            }
        }
    }

    static func isStaleConnection(_ error: PSQLError) -> Bool {
        if error.code == .serverClosedConnection || error.code == .clientClosedConnection || error.code == .uncleanShutdown { return true }
        // 57P01 admin_shutdown and the rest of class 57 (operator intervention): a restart.
        return error.code == .server && (error.serverInfo?[.sqlState]?.hasPrefix("57") ?? false)
    }

}
