import type { Database } from 'better-sqlite3';
import { MAX_AMOUNT } from '../../bounds.js';
import { WINDOW_MS } from '../../domain/windows.js';
import type { CircuitBreakerState } from '../../domain/usage.js';
import { toMicros } from '../../rates/rate-table.js';
import type { CircuitBreakerRecord } from '../roles/circuit-breaker.js';
import { storedInteger } from '../stored-values.js';

const WINDOW = WINDOW_MS.internationalSpendPerHour;

interface BreakerRow {
  limit_micros: number | null;
  spent_micros: number;
  opened_at: number | null;
  opened_by: string | null;
  reset_at: number | null;
  reset_by: string | null;
}

/**
 * The site circuit breaker and the sliding hour of international spend it watches. Spend is a
 * running total (one row) plus one row per international call of the last hour; a row leaves the
 * total an hour after its call, so reading the total is two index lookups at any call volume,
 * and each row is added and removed once. Settlement swaps a call's reservation for its real
 * cost while the call is still in the window. Every method runs inside the caller's transaction.
 */
export function createCircuitBreakerRepository(db: Database) {
  const s = {
    row: db.prepare<[], BreakerRow>(`SELECT limit_micros, spent_micros, opened_at, opened_by, reset_at, reset_by FROM circuit_breaker WHERE id = 1`),
    due: db.prepare<[number], { n: number; micros: number }>(`SELECT COUNT(*) AS n, COALESCE(SUM(micros), 0) AS micros FROM international_spend WHERE at <= ?`),
    dropDue: db.prepare<[number]>(`DELETE FROM international_spend WHERE at <= ?`),
    addSpent: db.prepare<[number]>(`UPDATE circuit_breaker SET spent_micros = spent_micros + ? WHERE id = 1`),
    insert: db.prepare<[string, number, number]>(`INSERT INTO international_spend (call_id, at, micros) VALUES (?, ?, ?)`),
    entry: db.prepare<[string], number>(`SELECT micros FROM international_spend WHERE call_id = ?`).pluck(),
    setEntry: db.prepare<[number, string]>(`UPDATE international_spend SET micros = ? WHERE call_id = ?`),
    open: db.prepare<[number, string]>(`UPDATE circuit_breaker SET opened_at = ?, opened_by = ? WHERE id = 1`),
    reset: db.prepare<[number, string]>(`UPDATE circuit_breaker SET opened_at = NULL, opened_by = NULL, spent_micros = 0, reset_at = ?, reset_by = ? WHERE id = 1`),
    dropAll: db.prepare(`DELETE FROM international_spend`),
    setLimit: db.prepare<[number | null]>(`UPDATE circuit_breaker SET limit_micros = ? WHERE id = 1`),
  };

  const row = (): BreakerRow => s.row.get() as BreakerRow;

  /** Exact without writing: spend that already left the window but was not yet dropped is subtracted. */
  const state = (at: number): CircuitBreakerState => {
    const r = row();
    return { open: r.opened_at !== null, openedAt: r.opened_at, limitMicros: r.limit_micros, spentMicros: r.spent_micros - (s.due.get(at - WINDOW)?.micros ?? 0) };
  };

  return {
    state,

    record(at: number): CircuitBreakerRecord {
      const r = row();
      return {
        ...state(at),
        openedBy: r.opened_by === null ? null : (JSON.parse(r.opened_by) as CircuitBreakerRecord['openedBy']),
        resetAt: r.reset_at,
        resetBy: r.reset_by,
      };
    },

    /** Drops the spend of calls placed more than an hour before `at`. */
    expire(at: number): void {
      const due = s.due.get(at - WINDOW);
      if (!due || due.n === 0) return;
      s.dropDue.run(at - WINDOW);
      s.addSpent.run(-due.micros);
    },

    addSpend(callId: string, at: number, micros: number): void {
      s.insert.run(callId, at, micros);
      s.addSpent.run(micros);
    },

    /** A settled call's real cost replaces its reservation, if the call is still in the window. */
    settle(callId: string, costMicros: number): void {
      const reserved = s.entry.get(callId);
      if (reserved === undefined) return;
      s.setEntry.run(costMicros, callId);
      s.addSpent.run(costMicros - reserved);
    },

    open(at: number, by: { ext: string; callId: string }): void {
      s.open.run(at, JSON.stringify(by));
    },

    reset(at: number, actor: string): void {
      s.reset.run(at, actor);
      s.dropAll.run();
    },

    setLimit(limitMicros: number | null): void {
      s.setLimit.run(limitMicros === null ? null : storedInteger(limitMicros, toMicros(MAX_AMOUNT), 'the circuit breaker limit (micro-units)'));
    },
  };
}

export type CircuitBreakerRepository = ReturnType<typeof createCircuitBreakerRepository>;
