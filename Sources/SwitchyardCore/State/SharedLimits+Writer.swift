import PostgresNIO

/// The writer of the shared state: settlements and published cooldowns, queued off the request
/// path and written in batches.
extension SharedLimits {
    /// Queues work for the writer (the oldest is dropped past `maxPending`: a slot whose
    /// settlement is lost expires, as the heartbeat no longer renews it).
    func post(_ work: Work) {
        outbox.withLockedValue { list in
            if list.count >= Self.maxPending { list.removeFirst(list.count - Self.maxPending + 1) }
            list.append(work)
        }
        wakeUp.yield(())
    }

    /// The writer: whenever woken, writes the outbox in batches (one round trip per batch of
    /// settlements); while the store is down the work stays queued and `maintain` wakes it when
    /// the store answers again. At shutdown it writes what is left.
    func drain() async {
        for await _ in wake { await writeOutbox() }
        await writeOutbox()
    }

    func writeOutbox() async {
        while isUp {
            let work = outbox.withLockedValue { list -> [Work] in
                let n = min(list.count, Self.batch)
                defer { list.removeFirst(n) }
                return Array(list.prefix(n))
            }
            if work.isEmpty { return }
            do {
                try await write(work)
            } catch {
                await failed(error)
                // Kept for when PostgreSQL is back; a batch it refused while up is dropped (its
                // slots and reservations expire with their leases) rather than retried forever.
                if !isUp { outbox.withLockedValue { $0.insert(contentsOf: work, at: 0) } }
                return
            }
        }
    }

    func write(_ work: [Work]) async throws {
        var scopes: [String] = []
        var seconds: [Int64] = []
        var deltas: [Int64] = []
        var leases: [Int64] = []
        var reservations: [Int64] = []
        var costs: [Int64] = []
        for item in work {
            switch item {
            case .settle(let t, let tokens, let cost):
                if tokens >= 0, tokens != t.reservedTokens {
                    for scope in t.rateScopes {
                        scopes.append(scope)
                        seconds.append(t.second)
                        deltas.append(tokens - t.reservedTokens)
                    }
                }
                leases += t.leaseIDs
                reservations += t.reservationIDs
                costs += Array(repeating: cost, count: t.reservationIDs.count)
            case .cooldown(let target, let until):
                try await writeCooldown(target: target, untilMs: until)
            }
        }
        guard !(scopes.isEmpty && leases.isEmpty && reservations.isEmpty) else { return }
        var binds = PostgresBindings(capacity: 6)
        try binds.append(scopes)
        try binds.append(seconds)
        try binds.append(deltas)
        try binds.append(leases)
        try binds.append(reservations)
        try binds.append(costs)
        let query = PostgresQuery(unsafeSQL: "SELECT switchyard_settle($1,$2,$3,$4,$5,$6)", binds: binds)
        try await withTimeout { [client] in _ = try await client.query(query) }
    }

    func writeCooldown(target: String, untilMs: Int64) async throws {
        var binds = PostgresBindings(capacity: 2)
        try binds.append(target)
        try binds.append(untilMs)
        let query = PostgresQuery(
            unsafeSQL: """
                INSERT INTO target_cooldowns (target, until_ms) VALUES ($1, $2)
                ON CONFLICT (target) DO UPDATE SET until_ms = GREATEST(target_cooldowns.until_ms, EXCLUDED.until_ms)
                """, binds: binds)
        try await withTimeout { [client] in _ = try await client.query(query) }
    }
}
