import { MAX_AMOUNT } from '../../bounds.js';
import type { CircuitBreakerState } from '../../domain/usage.js';
import { toMicros } from '../../rates/rate-table.js';
import { storedInteger } from '../stored-values.js';
import { WINDOW_MS } from '../../domain/windows.js';
import type { CircuitBreakerRecord } from '../roles/circuit-breaker.js';
import { run, statement, type Db } from './connection.js';

const WINDOW = WINDOW_MS.internationalSpendPerHour;

interface BreakerRow {
  limit_micros: number | null;
  spent_micros: number;
  opened_at: number | null;
  opened_by: CircuitBreakerRecord['openedBy'];
  reset_at: number | null;
  reset_by: string | null;
  /** Spend of calls already out of the window but not yet dropped from the total. */
  due: number;
}

const ROW = `SELECT limit_micros, spent_micros, opened_at, opened_by, reset_at, reset_by,
  (SELECT coalesce(sum(micros), 0)::bigint FROM international_spend WHERE at <= $1) AS due
  FROM circuit_breaker WHERE id = 1`;

const S = {
  read: statement('dg_breaker', ROW),
  // The one row lock of the site breaker: every guard's international calls take it in turn.
  lock: statement('dg_breaker_lock', `${ROW} FOR UPDATE`),
  take: statement('dg_breaker_take', `SELECT 1 FROM circuit_breaker WHERE id = 1 FOR UPDATE`),
  addSpend: statement(
    'dg_breaker_spend',
    `WITH gone AS (DELETE FROM international_spend WHERE at <= $1 RETURNING micros),
     added AS (INSERT INTO international_spend (call_id, at, micros) VALUES ($2, $3, $4))
     UPDATE circuit_breaker SET spent_micros = spent_micros + $4::bigint - (SELECT coalesce(sum(micros), 0) FROM gone) WHERE id = 1`,
  ),
  entry: statement('dg_breaker_entry', `SELECT micros FROM international_spend WHERE call_id = $1`),
  settle: statement(
    'dg_breaker_settle',
    `WITH old AS (SELECT micros FROM international_spend WHERE call_id = $1),
     changed AS (UPDATE international_spend SET micros = $2 WHERE call_id = $1)
     UPDATE circuit_breaker SET spent_micros = spent_micros + $2::bigint - (SELECT micros FROM old) WHERE id = 1 AND EXISTS (SELECT 1 FROM old)`,
  ),
  open: statement('dg_breaker_open', `UPDATE circuit_breaker SET opened_at = $1, opened_by = $2::json WHERE id = 1`),
  reset: statement(
    'dg_breaker_reset',
    `WITH gone AS (DELETE FROM international_spend)
     UPDATE circuit_breaker SET opened_at = NULL, opened_by = NULL, spent_micros = 0, reset_at = $1, reset_by = $2 WHERE id = 1`,
  ),
  setLimit: statement('dg_breaker_limit', `UPDATE circuit_breaker SET limit_micros = $1 WHERE id = 1`),
};

const toState = (r: BreakerRow): CircuitBreakerState => ({ open: r.opened_at !== null, openedAt: r.opened_at, limitMicros: r.limit_micros, spentMicros: r.spent_micros - r.due });
const toRecord = (r: BreakerRow): CircuitBreakerRecord => ({ ...toState(r), openedBy: r.opened_by, resetAt: r.reset_at, resetBy: r.reset_by });

/**
 * The site circuit breaker and the sliding hour of international spend it watches, as in the
 * SQLite store: a running total on the breaker's row plus one row per international call of the
 * hour. Whoever changes the spend holds the breaker's row lock first (`lock` or `take`), before
 * any row of international_spend and before the policy version: one order for every guard, so
 * none waits on another in a circle.
 */
export const breaker = {
  /** Exact without writing: spend that already left the window but was not dropped yet is subtracted. */
  async state(db: Db, at: number, lock: boolean): Promise<CircuitBreakerState> {
    const [row] = await run<BreakerRow>(db, lock ? S.lock : S.read, [at - WINDOW]);
    return toState(row as BreakerRow);
  },

  async record(db: Db, at: number, lock = false): Promise<CircuitBreakerRecord> {
    const [row] = await run<BreakerRow>(db, lock ? S.lock : S.read, [at - WINDOW]);
    return toRecord(row as BreakerRow);
  },

  take(db: Db): Promise<unknown> {
    return run(db, S.take, []);
  },

  /** Drops the spend of calls placed more than an hour before `at` and adds this call's; under the breaker's lock. */
  addSpend(db: Db, callId: string, at: number, micros: number): Promise<unknown> {
    return run(db, S.addSpend, [at - WINDOW, callId, at, micros]);
  },

  /** Whether the call still counts in the breaker's hour (then settling it must take the breaker's lock). */
  async counts(db: Db, callId: string): Promise<boolean> {
    return (await run(db, S.entry, [callId])).length > 0;
  },

  /** A settled call's real cost replaces its reservation, if the call is still in the window; under the breaker's lock. */
  async settle(db: Db, callId: string, costMicros: number): Promise<void> {
    await run(db, S.settle, [callId, costMicros]);
  },

  open(db: Db, at: number, by: { ext: string; callId: string }): Promise<unknown> {
    return run(db, S.open, [at, JSON.stringify(by)]);
  },

  async reset(db: Db, at: number, actor: string): Promise<void> {
    await run(db, S.reset, [at, actor]);
  },

  async setLimit(db: Db, limitMicros: number | null): Promise<void> {
    await run(db, S.setLimit, [limitMicros === null ? null : storedInteger(limitMicros, toMicros(MAX_AMOUNT), 'the circuit breaker limit (micro-units)')]);
  },
};
