import type { UsageSnapshot } from '../../domain/usage.js';
import type { PricedRate } from '../../domain/rate.js';
import { MAX_CALL_SECONDS, MAX_RATE_PER_MINUTE } from '../../bounds.js';
import { costMicros, toMicros } from '../../rates/rate-table.js';
import { settledSeconds, storedInteger } from '../stored-values.js';
import type { Periods } from '../periods.js';
import type { SettlementOutcome, SettlementRequest, SettlementResult } from '../roles/decisions.js';
import type { ReservationRecord } from '../roles/usage.js';
import { run, statement, type Db } from './connection.js';
import type { NewReservation, ReservationRow } from '../reservation-rows.js';

const S = {
  // Reservations still active but overdue at $5 do not hold a slot, whether or not a decision expired them yet.
  usage: statement(
    'dg_usage',
    `SELECT coalesce((SELECT active FROM active_calls WHERE ext = $1), 0)
              - (SELECT count(*) FROM reservations WHERE ext = $1 AND status = 'active' AND expires_at <= $4) AS active,
            coalesce((SELECT spend_micros FROM usage_totals WHERE ext = $1 AND period = $2), 0) AS day_spend,
            coalesce((SELECT seconds FROM usage_totals WHERE ext = $1 AND period = $2), 0) AS day_seconds,
            coalesce((SELECT spend_micros FROM usage_totals WHERE ext = $1 AND period = $3), 0) AS month_spend`,
  ),
  reserve: statement(
    'dg_reserve',
    `WITH r AS (
       INSERT INTO reservations (call_id, ext, e164, per_minute_micros, increment, minimum, day, month,
         reserved_seconds, reserved_micros, created_at, expires_at, status, source_ip)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'active', $13)
     ), totals AS (
       INSERT INTO usage_totals AS t (ext, period, spend_micros, seconds) VALUES ($2, 'd:' || $7, $10, $9), ($2, 'm:' || $8, $10, 0)
       ON CONFLICT (ext, period) DO UPDATE SET spend_micros = t.spend_micros + excluded.spend_micros, seconds = t.seconds + excluded.seconds
     )
     INSERT INTO active_calls AS a (ext, active) VALUES ($2, 1) ON CONFLICT (ext) DO UPDATE SET active = a.active + 1`,
  ),
  extOf: statement('dg_reservation_ext', `SELECT ext FROM reservations WHERE call_id = $1`),
  get: statement('dg_reservation', `SELECT * FROM reservations WHERE call_id = $1`),
  // The real cost and seconds replace the reserved ones in the totals; the slot is freed if expiry has not freed it yet.
  settle: statement(
    'dg_settle',
    `WITH r AS (
       UPDATE reservations SET status = 'settled', settled_at = $2, answered_seconds = $3, dial_status = $4, cost_micros = $5 WHERE call_id = $1
     ), totals AS (
       UPDATE usage_totals SET spend_micros = spend_micros + $6::bigint, seconds = seconds + CASE WHEN period = 'd:' || $9::text THEN $7::bigint ELSE 0 END
       WHERE ext = $8 AND period IN ('d:' || $9::text, 'm:' || $10::text)
     )
     UPDATE active_calls SET active = active - 1 WHERE ext = $8 AND $11::boolean`,
  ),
  logSettlement: statement(
    'dg_log_settlement',
    `INSERT INTO settlements (call_id, at, answered_seconds, dial_status, outcome, cost_micros, reported, clamped) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
  ),
  active: statement('dg_active', `SELECT * FROM reservations WHERE status = 'active' AND expires_at > $1 ORDER BY created_at, call_id`),
  activeOf: statement('dg_active_of', `SELECT * FROM reservations WHERE ext = $2 AND status = 'active' AND expires_at > $1 ORDER BY created_at, call_id`),
  countActive: statement('dg_count_active', `SELECT count(*) AS n FROM reservations WHERE status = 'active' AND expires_at > $1`),
};

const toRecord = (row: ReservationRow): ReservationRecord => ({
  callId: row.call_id,
  ext: row.ext,
  e164: row.e164,
  status: row.status,
  reservedSeconds: row.reserved_seconds,
  reservedMicros: row.reserved_micros,
  createdAt: row.created_at,
  expiresAt: row.expires_at,
  answeredSeconds: row.answered_seconds,
  dialStatus: row.dial_status,
  costMicros: row.cost_micros,
});

/**
 * Reservations and the running totals they feed, as in the SQLite store. The writers of one
 * extension's rows hold its lock (see postgres-store.ts), so the totals read are the totals
 * written until the commit.
 */
export const reservations = {
  /** The extension's usage at `at`; reservations overdue then count as expired. */
  async usage(db: Db, ext: string, periods: Periods, at: number): Promise<UsageSnapshot> {
    const [row] = await run<{ active: number; day_spend: number; day_seconds: number; month_spend: number }>(db, S.usage, [ext, `d:${periods.day}`, `m:${periods.month}`, at]);
    return {
      activeCalls: row?.active ?? 0,
      spentTodayMicros: row?.day_spend ?? 0,
      spentMonthMicros: row?.month_spend ?? 0,
      secondsToday: row?.day_seconds ?? 0,
    };
  },

  /** Sent at once (see Defer): the values are checked, and may fail, before this returns. */
  reserve(db: Db, r: NewReservation): Promise<unknown> {
    return run(db, S.reserve, [
      r.callId,
      r.ext,
      r.e164,
      storedInteger(r.rate.perMinuteMicros, toMicros(MAX_RATE_PER_MINUTE), 'the rate of a reservation (micro-units a minute)'),
      r.rate.increment,
      r.rate.minimum,
      r.periods.day,
      r.periods.month,
      storedInteger(r.grant.seconds, MAX_CALL_SECONDS, 'the seconds of a reservation'),
      storedInteger(r.grant.costMicros, Number.MAX_SAFE_INTEGER, 'the cost of a reservation (micro-units)'),
      r.createdAt,
      r.expiresAt,
      r.sourceIp,
    ]);
  },

  /** The extension a call was reserved for, read without a lock: the settlement locks it, then reads the reservation again. */
  async extOf(db: Db, callId: string): Promise<string | null> {
    const [row] = await run<{ ext: string }>(db, S.extOf, [callId]);
    return row?.ext ?? null;
  },

  /**
   * Replaces the reservation's cost and seconds with the real ones; a second settlement changes
   * nothing. Seconds past the granted limit plus the tolerance are clamped to it.
   */
  async settle(db: Db, req: SettlementRequest): Promise<SettlementResult> {
    const [row] = await run<ReservationRow>(db, S.get, [req.callId]);
    const at = req.at.getTime();
    const limitSeconds = row?.reserved_seconds ?? MAX_CALL_SECONDS;
    const { answered, clamped } = settledSeconds(req.answeredSeconds, limitSeconds);
    let outcome: SettlementOutcome;
    let cost = 0;
    if (!row) {
      outcome = 'unknown';
    } else if (row.status === 'settled') {
      outcome = 'duplicate';
      cost = row.cost_micros ?? 0;
    } else {
      const rate: PricedRate = { prefix: '', perMinuteMicros: row.per_minute_micros, increment: row.increment, minimum: row.minimum };
      cost = costMicros(rate, answered);
      outcome = row.status === 'expired' ? 'settled_after_expiry' : 'settled';
      // Expiry already freed the slot; the totals still hold the reserved amounts, so both cases swap them for the real ones.
      await run(db, S.settle, [
        req.callId,
        at,
        answered,
        req.dialStatus,
        cost,
        cost - row.reserved_micros,
        answered - row.reserved_seconds,
        row.ext,
        row.day,
        row.month,
        row.status === 'active',
      ]);
    }
    await run(db, S.logSettlement, [req.callId, at, answered, req.dialStatus, outcome, cost, req.reported ?? String(req.answeredSeconds), clamped]);
    return { outcome, callId: req.callId, ext: row?.ext ?? null, costMicros: cost, reservedMicros: row?.reserved_micros ?? 0, answeredSeconds: answered, limitSeconds, clamped };
  },

  async get(db: Db, callId: string): Promise<ReservationRecord | null> {
    const [row] = await run<ReservationRow>(db, S.get, [callId]);
    return row ? toRecord(row) : null;
  },

  /** Reservations still holding a slot at `at`, oldest first. */
  async active(db: Db, at: number, ext?: string): Promise<ReservationRecord[]> {
    const rows = ext === undefined ? await run<ReservationRow>(db, S.active, [at]) : await run<ReservationRow>(db, S.activeOf, [at, ext]);
    return rows.map(toRecord);
  },

  async countActive(db: Db, at: number): Promise<number> {
    const [row] = await run<{ n: number }>(db, S.countActive, [at]);
    return row?.n ?? 0;
  },
};
