import type { Database } from 'better-sqlite3';
import { MAX_CALL_SECONDS, MAX_RATE_PER_MINUTE } from '../../bounds.js';
import type { UsageSnapshot } from '../../domain/usage.js';
import type { PricedRate } from '../../domain/rate.js';
import { costMicros, toMicros } from '../../rates/rate-table.js';
import type { Periods } from '../periods.js';
import type { SettlementOutcome, SettlementRequest, SettlementResult } from '../roles/decisions.js';
import type { ReservationRecord } from '../roles/usage.js';
import { settledSeconds, storedInteger } from '../stored-values.js';
import type { NewReservation, ReservationRow } from '../reservation-rows.js';

/** An extension's budget totals of one day and one month (the periods they are of). */
export interface BudgetTotals {
  day: string;
  month: string;
  spentToday: number;
  secondsToday: number;
  spentMonth: number;
}

/**
 * Reservations and the running totals they feed. Every method runs inside the caller's
 * transaction; the totals make a usage read a few index lookups, however many calls are on
 * record.
 */
export function createReservationRepository(db: Database) {
  const s = {
    expireDue: db.prepare<[string, number]>(`UPDATE reservations SET status = 'expired' WHERE ext = ? AND status = 'active' AND expires_at <= ?`),
    expireAllDue: db.prepare<[number], { ext: string; n: number }>(
      `SELECT ext, COUNT(*) AS n FROM reservations WHERE status = 'active' AND expires_at <= ? GROUP BY ext`,
    ),
    expireAllUpdate: db.prepare<[number]>(`UPDATE reservations SET status = 'expired' WHERE status = 'active' AND expires_at <= ?`),
    total: db.prepare<[string, string], { spend_micros: number; seconds: number }>(`SELECT spend_micros, seconds FROM usage_totals WHERE ext = ? AND period = ?`),
    addTotal: db.prepare<[string, string, number, number]>(
      `INSERT INTO usage_totals (ext, period, spend_micros, seconds) VALUES (?, ?, ?, ?)
       ON CONFLICT (ext, period) DO UPDATE SET spend_micros = spend_micros + excluded.spend_micros, seconds = seconds + excluded.seconds`,
    ),
    active: db.prepare<[string], number>(`SELECT active FROM active_calls WHERE ext = ?`).pluck(),
    // One probe of reservations_active: the slot that frees first.
    nextExpiry: db.prepare<[string], number | null>(`SELECT min(expires_at) FROM reservations WHERE ext = ? AND status = 'active'`).pluck(),
    overdue: db
      .prepare<[string, number], number>(`SELECT COUNT(*) FROM reservations WHERE ext = ? AND status = 'active' AND expires_at <= ?`)
      .pluck(),
    addActive: db.prepare<[string, number]>(
      `INSERT INTO active_calls (ext, active) VALUES (?, ?) ON CONFLICT (ext) DO UPDATE SET active = active + excluded.active`,
    ),
    insert: db.prepare(
      `INSERT INTO reservations (call_id, ext, e164, per_minute_micros, increment, minimum, day, month,
         reserved_seconds, reserved_micros, created_at, expires_at, status, source_ip)
       VALUES (@callId, @ext, @e164, @perMinuteMicros, @increment, @minimum, @day, @month,
         @reservedSeconds, @reservedMicros, @createdAt, @expiresAt, 'active', @sourceIp)`,
    ),
    get: db.prepare<[string], ReservationRow>(`SELECT * FROM reservations WHERE call_id = ?`),
    settle: db.prepare(
      `UPDATE reservations SET status = 'settled', settled_at = ?, answered_seconds = ?, dial_status = ?, cost_micros = ? WHERE call_id = ?`,
    ),
    logSettlement: db.prepare(
      `INSERT INTO settlements (call_id, at, answered_seconds, dial_status, outcome, cost_micros, reported, clamped) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
  };

  const addTotals = (ext: string, periods: Periods, micros: number, seconds: number): void => {
    s.addTotal.run(ext, `d:${periods.day}`, micros, seconds);
    s.addTotal.run(ext, `m:${periods.month}`, micros, 0);
  };

  const readTotals = (ext: string, periods: Periods): BudgetTotals => {
    const day = s.total.get(ext, `d:${periods.day}`);
    const month = s.total.get(ext, `m:${periods.month}`);
    return { day: periods.day, month: periods.month, spentToday: day?.spend_micros ?? 0, secondsToday: day?.seconds ?? 0, spentMonth: month?.spend_micros ?? 0 };
  };
  /** Reservations holding a slot (overdue ones included until they are expired). */
  const activeCalls = (ext: string): number => (s.active.get(ext) as number | undefined) ?? 0;

  return {
    /** Frees the slots of this extension's reservations past their expiry; their cost stays charged. */
    expireDue(ext: string, now: number): number {
      const n = s.expireDue.run(ext, now).changes;
      if (n > 0) s.addActive.run(ext, -n);
      return n;
    },

    expireAllDue(now: number): number {
      const due = s.expireAllDue.all(now);
      for (const { ext, n } of due) s.addActive.run(ext, -n);
      return s.expireAllUpdate.run(now).changes;
    },

    /**
     * Expiry is a condition of the read, not only of a write: a reservation past its expiry at
     * `overdueAt` holds no slot even before a write has marked it expired, so a dry run, the
     * usage API and a real decision at the same time see the same calls in progress. Without
     * it the caller has just expired them (`expireDue`), and one lookup is saved.
     */
    usage(ext: string, periods: Periods, overdueAt?: number): UsageSnapshot {
      const totals = readTotals(ext, periods);
      const active = activeCalls(ext);
      return {
        activeCalls: overdueAt === undefined || active === 0 ? active : active - (s.overdue.get(ext, overdueAt) ?? 0),
        spentTodayMicros: totals.spentToday,
        spentMonthMicros: totals.spentMonth,
        secondsToday: totals.secondsToday,
      };
    },

    totals: readTotals,
    activeCalls,

    /** When the extension's first slot frees by expiry; Infinity when none is held. */
    nextExpiry: (ext: string): number => (s.nextExpiry.get(ext) as number | null) ?? Infinity,

    reserve(r: NewReservation): void {
      s.insert.run({
        callId: r.callId,
        ext: r.ext,
        e164: r.e164,
        perMinuteMicros: storedInteger(r.rate.perMinuteMicros, toMicros(MAX_RATE_PER_MINUTE), 'the rate of a reservation (micro-units a minute)'),
        increment: r.rate.increment,
        minimum: r.rate.minimum,
        day: r.periods.day,
        month: r.periods.month,
        reservedSeconds: storedInteger(r.grant.seconds, MAX_CALL_SECONDS, 'the seconds of a reservation'),
        reservedMicros: storedInteger(r.grant.costMicros, Number.MAX_SAFE_INTEGER, 'the cost of a reservation (micro-units)'),
        createdAt: r.createdAt,
        expiresAt: r.expiresAt,
        sourceIp: r.sourceIp,
      });
      addTotals(r.ext, r.periods, r.grant.costMicros, r.grant.seconds);
      s.addActive.run(r.ext, 1);
    },

    /**
     * Replaces the reservation's cost and seconds with the real ones; a second settlement changes
     * nothing. Seconds past the granted limit plus the tolerance are clamped to it.
     */
    settle(req: SettlementRequest): SettlementResult {
      const row = s.get.get(req.callId);
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
        addTotals(row.ext, { day: row.day, month: row.month }, cost - row.reserved_micros, answered - row.reserved_seconds);
        if (row.status === 'active') s.addActive.run(row.ext, -1);
        s.settle.run(at, answered, req.dialStatus, cost, req.callId);
      }
      s.logSettlement.run(req.callId, at, answered, req.dialStatus, outcome, cost, req.reported ?? String(req.answeredSeconds), clamped ? 1 : 0);
      return { outcome, callId: req.callId, ext: row?.ext ?? null, costMicros: cost, reservedMicros: row?.reserved_micros ?? 0, answeredSeconds: answered, limitSeconds, clamped };
    },

    get(callId: string): ReservationRecord | null {
      const row = s.get.get(callId);
      if (!row) return null;
      return {
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
      };
    },
  };
}

export type ReservationRepository = ReturnType<typeof createReservationRepository>;
