/// The PostgreSQL tables and functions behind the limits replicas share (scale-out.md "What is
/// shared"), applied as migrations after the ledger's, under the same advisory lock.
///
/// - `limiter_counts`: admissions and tokens of a rate-limited scope per second: rpm is the count
///   over the last 61 one-second buckets (which cover every 60 s window that ends now, so no 60 s
///   window ever holds more than the limit; a refusal may come up to a second early), tpm the sum.
///   At most 61 rows are read per scope, whatever the rate.
/// - `limiter_leases`: one row per concurrent slot held, with an expiry its replica's heartbeat
///   pushes forward; a replica that dies stops renewing and its slots expire within 30 s.
/// - `budget_accounts` / `budget_reservations`: spend per budget scope and period (seeded once
///   from the ledger), and worst-case reservations of requests in flight, leased like slots.
/// - `target_cooldowns`: a target one replica saw failing, skipped by all until `until_ms`.
///
/// `switchyard_admit` checks and takes everything one request needs in one call (one round
/// trip), serialised per scope with transaction-scoped advisory locks taken in sorted order;
/// `switchyard_settle` gives it back at the end.
enum SharedStateSchema {
    static let migrations: [(version: Int, statements: [String])] = [
        (
            101,
            [
                """
                CREATE TABLE limiter_counts (scope TEXT NOT NULL, second BIGINT NOT NULL, admissions BIGINT NOT NULL, tokens BIGINT NOT NULL,
                    PRIMARY KEY (scope, second))
                """,
                "CREATE TABLE limiter_leases (id BIGSERIAL PRIMARY KEY, scope TEXT NOT NULL, holder TEXT NOT NULL, expires_at_ms BIGINT NOT NULL)",
                "CREATE INDEX limiter_leases_scope ON limiter_leases (scope, expires_at_ms)",
                "CREATE INDEX limiter_leases_holder ON limiter_leases (holder)",
                """
                CREATE TABLE budget_accounts (scope TEXT NOT NULL, period_start_ms BIGINT NOT NULL, spent_micro BIGINT NOT NULL,
                    PRIMARY KEY (scope, period_start_ms))
                """,
                """
                CREATE TABLE budget_reservations (id BIGSERIAL PRIMARY KEY, scope TEXT NOT NULL, period_start_ms BIGINT NOT NULL,
                    amount_micro BIGINT NOT NULL, holder TEXT NOT NULL, expires_at_ms BIGINT NOT NULL)
                """,
                "CREATE INDEX budget_reservations_scope ON budget_reservations (scope, period_start_ms)",
                "CREATE INDEX budget_reservations_holder ON budget_reservations (holder)",
                "CREATE TABLE target_cooldowns (target TEXT PRIMARY KEY, until_ms BIGINT NOT NULL)",
                admitFunction,
                settleFunction,
            ]
        )
    ]

    /// Returns one row: admitted, or the first limit that refused (scope, kind, limit, what is
    /// used, and when to retry), with the ids to settle.
    static let admitFunction = """
        CREATE OR REPLACE FUNCTION switchyard_admit(
            p_now BIGINT, p_holder TEXT, p_ttl BIGINT, p_tokens BIGINT,
            p_scopes TEXT[], p_rpm BIGINT[], p_tpm BIGINT[], p_conc BIGINT[],
            p_bscopes TEXT[], p_bperiods BIGINT[], p_blimits BIGINT[], p_busers TEXT[], p_broutes TEXT[], p_reserve BIGINT)
        RETURNS TABLE (ok BOOLEAN, failed_scope TEXT, failed_kind TEXT, failed_limit BIGINT, used BIGINT, retry_ms BIGINT,
                       lease_ids BIGINT[], reservation_ids BIGINT[])
        LANGUAGE plpgsql AS $$
        DECLARE
            i INT; n BIGINT; t BIGINT; oldest BIGINT; spent BIGINT; held BIGINT; new_id BIGINT;
            now_s BIGINT := p_now / 1000;
            le BIGINT[] := '{}'; re BIGINT[] := '{}';
            ns INT := coalesce(array_length(p_scopes, 1), 0);
            nb INT := coalesce(array_length(p_bscopes, 1), 0);
        BEGIN
            FOR i IN 1 .. ns LOOP PERFORM pg_advisory_xact_lock(hashtextextended('sy-limit:' || p_scopes[i], 0)); END LOOP;
            FOR i IN 1 .. nb LOOP PERFORM pg_advisory_xact_lock(hashtextextended('sy-budget:' || p_bscopes[i], 0)); END LOOP;
            FOR i IN 1 .. ns LOOP
                IF p_rpm[i] >= 0 OR p_tpm[i] >= 0 THEN
                    SELECT coalesce(sum(admissions), 0), coalesce(sum(tokens), 0), min(second) INTO n, t, oldest
                      FROM limiter_counts WHERE scope = p_scopes[i] AND second >= now_s - 60;
                    IF p_rpm[i] >= 0 AND n >= p_rpm[i] THEN
                        RETURN QUERY SELECT false, p_scopes[i], 'rpm'::text, p_rpm[i], n, greatest((oldest + 61) * 1000 - p_now, 1), le, re;
                        RETURN;
                    END IF;
                    IF p_tpm[i] >= 0 AND t + p_tokens > p_tpm[i] THEN
                        RETURN QUERY SELECT false, p_scopes[i], 'tpm'::text, p_tpm[i], t,
                            greatest((coalesce(oldest, now_s) + 61) * 1000 - p_now, 1), le, re;
                        RETURN;
                    END IF;
                END IF;
                IF p_conc[i] >= 0 THEN
                    SELECT count(*) INTO n FROM limiter_leases WHERE scope = p_scopes[i] AND expires_at_ms > p_now;
                    IF n >= p_conc[i] THEN
                        RETURN QUERY SELECT false, p_scopes[i], 'concurrent'::text, p_conc[i], n, 1000::bigint, le, re;
                        RETURN;
                    END IF;
                END IF;
            END LOOP;
            FOR i IN 1 .. nb LOOP
                INSERT INTO budget_accounts (scope, period_start_ms, spent_micro)
                    SELECT p_bscopes[i], p_bperiods[i], coalesce(sum(cost_micro_usd), 0) FROM usage_records
                     WHERE ts_ms >= p_bperiods[i] AND (p_busers[i] = '' OR user_name = p_busers[i])
                       AND (p_broutes[i] = '' OR route = p_broutes[i])
                    ON CONFLICT DO NOTHING;
                SELECT spent_micro INTO spent FROM budget_accounts WHERE scope = p_bscopes[i] AND period_start_ms = p_bperiods[i];
                SELECT coalesce(sum(amount_micro), 0) INTO held FROM budget_reservations
                 WHERE scope = p_bscopes[i] AND period_start_ms = p_bperiods[i] AND expires_at_ms > p_now;
                IF p_blimits[i] = 0 OR spent >= p_blimits[i] OR spent + held + p_reserve > p_blimits[i] THEN
                    RETURN QUERY SELECT false, p_bscopes[i], 'budget'::text, p_blimits[i], spent, 0::bigint, le, re;
                    RETURN;
                END IF;
            END LOOP;
            FOR i IN 1 .. ns LOOP
                IF p_rpm[i] >= 0 OR p_tpm[i] >= 0 THEN
                    INSERT INTO limiter_counts (scope, second, admissions, tokens) VALUES (p_scopes[i], now_s, 1, p_tokens)
                    ON CONFLICT (scope, second) DO UPDATE
                        SET admissions = limiter_counts.admissions + 1, tokens = limiter_counts.tokens + EXCLUDED.tokens;
                END IF;
                IF p_conc[i] >= 0 THEN
                    INSERT INTO limiter_leases (scope, holder, expires_at_ms) VALUES (p_scopes[i], p_holder, p_now + p_ttl) RETURNING id INTO new_id;
                    le := le || new_id;
                END IF;
            END LOOP;
            FOR i IN 1 .. nb LOOP
                INSERT INTO budget_reservations (scope, period_start_ms, amount_micro, holder, expires_at_ms)
                    VALUES (p_bscopes[i], p_bperiods[i], p_reserve, p_holder, p_now + p_ttl) RETURNING id INTO new_id;
                re := re || new_id;
            END LOOP;
            RETURN QUERY SELECT true, NULL::text, NULL::text, 0::bigint, 0::bigint, 0::bigint, le, re;
        END $$
        """

    /// The end of many requests at once (the settle queue is written in batches): each admission
    /// second counts its requests' real tokens (`p_deltas`: real − reserved, per scope and second),
    /// their slots are freed, and their budget reservations become their real costs.
    static let settleFunction = """
        CREATE OR REPLACE FUNCTION switchyard_settle(p_scopes TEXT[], p_seconds BIGINT[], p_deltas BIGINT[], p_lease_ids BIGINT[],
                                                     p_reservation_ids BIGINT[], p_costs BIGINT[])
        RETURNS VOID LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE limiter_counts c SET tokens = greatest(c.tokens + d.delta, 0)
              FROM (SELECT scope, second, sum(delta) AS delta FROM unnest(p_scopes, p_seconds, p_deltas) AS u(scope, second, delta)
                     GROUP BY scope, second) d
             WHERE c.scope = d.scope AND c.second = d.second AND d.delta <> 0;
            DELETE FROM limiter_leases WHERE id = ANY(p_lease_ids);
            UPDATE budget_accounts a SET spent_micro = a.spent_micro + x.cost
              FROM (SELECT r.scope, r.period_start_ms, sum(greatest(u.cost, 0)) AS cost
                      FROM budget_reservations r JOIN unnest(p_reservation_ids, p_costs) AS u(id, cost) ON r.id = u.id
                     GROUP BY r.scope, r.period_start_ms) x
             WHERE a.scope = x.scope AND a.period_start_ms = x.period_start_ms;
            DELETE FROM budget_reservations WHERE id = ANY(p_reservation_ids);
        END $$
        """

    /// Pushes the expiries of the slots and reservations this replica still holds forward (by id:
    /// one whose settlement was lost is not renewed, and expires).
    static let heartbeatSQL = [
        "UPDATE limiter_leases SET expires_at_ms = $1 WHERE id = ANY($2)",
        "UPDATE budget_reservations SET expires_at_ms = $1 WHERE id = ANY($2)",
    ]

    /// Drops what no admission reads any more.
    static let cleanupSQL = [
        "DELETE FROM limiter_counts WHERE second < $1 / 1000 - 61",
        "DELETE FROM limiter_leases WHERE expires_at_ms < $1",
        "DELETE FROM budget_reservations WHERE expires_at_ms < $1",
        "DELETE FROM target_cooldowns WHERE until_ms < $1",
    ]
}
