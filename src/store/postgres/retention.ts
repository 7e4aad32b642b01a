import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { HOUR_MS } from '../../domain/windows.js';
import { idTime } from '../ids.js';
import { keptPeriods, noneYet, pruneBefore, type PruneCounts, type PruneOptions, type PruneReport } from '../retention.js';
import { run, statement } from './connection.js';
import { KEEP_MS as VELOCITY_KEEP_MS } from './velocity.js';

/**
 * Audit retention on PostgreSQL: what the SQLite store prunes and keeps (see store/retention.ts
 * and store/sqlite/retention.ts), each batch one statement of at most `batchRows` rows, so its
 * own short transaction. Rows a decision holds are skipped, never waited for (SKIP LOCKED), and
 * several guards pruning at once only share the work.
 */
const S = {
  // Alerts whose last occurrence is older than the cutoff and whose delivery is over. Ids are ULIDs: by time.
  alerts: statement(
    'dg_prune_alerts',
    `WITH gone AS (
       DELETE FROM alerts WHERE id IN (
         SELECT id FROM alerts WHERE id < $1 AND last_at < $2 AND delivery_status <> 'pending' ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED
       ) RETURNING 1
     ) SELECT count(*) AS alerts FROM gone`,
  ),
  // Old decisions with their reservations and settlements, but not one whose reservation is still
  // active, nor one a kept alert names (its own decision, or one of the calls it lists: alerts up
  // to an hour past the cutoff list decisions before it).
  decisions: statement(
    'dg_prune_decisions',
    `WITH named AS (
       SELECT decision_id AS id FROM alerts WHERE id < $3 AND decision_id IS NOT NULL
       UNION SELECT json_array_elements_text(details -> 'decisionIds') FROM alerts WHERE id < $3
     ), old AS (
       SELECT d.id FROM decisions d LEFT JOIN reservations r ON r.call_id = d.id
       WHERE d.at < $1 AND r.status IS DISTINCT FROM 'active' AND NOT EXISTS (SELECT 1 FROM named WHERE named.id = d.id)
       ORDER BY d.at, d.id LIMIT $2 FOR UPDATE OF d SKIP LOCKED
     ), s AS (
       DELETE FROM settlements WHERE call_id IN (SELECT id FROM old) RETURNING 1
     ), r AS (
       DELETE FROM reservations WHERE call_id IN (SELECT id FROM old) RETURNING 1
     ), d AS (
       DELETE FROM decisions WHERE id IN (SELECT id FROM old) RETURNING 1
     ) SELECT (SELECT count(*) FROM d) AS decisions, (SELECT count(*) FROM r) AS reservations, (SELECT count(*) FROM s) AS settlements`,
  ),
  // Old settlements of no decision (a settle for an unknown call id).
  orphanSettlements: statement(
    'dg_prune_orphan_settlements',
    `WITH gone AS (
       DELETE FROM settlements WHERE id IN (
         SELECT s.id FROM settlements s WHERE s.at < $1 AND NOT EXISTS (SELECT 1 FROM decisions d WHERE d.id = s.call_id)
         ORDER BY s.id LIMIT $2 FOR UPDATE SKIP LOCKED
       ) RETURNING 1
     ) SELECT count(*) AS settlements FROM gone`,
  ),
  // Velocity rows outside every window: the decision path drops them too, but only as calls come.
  velocityAttempts: statement(
    'dg_prune_velocity_attempts',
    `WITH gone AS (
       DELETE FROM velocity_attempts WHERE id IN (
         SELECT id FROM velocity_attempts WHERE at <= $1 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED
       ) RETURNING 1
     ) SELECT count(*) AS "velocityAttempts" FROM gone`,
  ),
  velocityDestinations: statement(
    'dg_prune_velocity_destinations',
    `WITH gone AS (
       DELETE FROM velocity_destinations WHERE (ext, destination) IN (
         SELECT ext, destination FROM velocity_destinations WHERE last_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED
       ) RETURNING 1
     ) SELECT count(*) AS "velocityDestinations" FROM gone`,
  ),
  // The running totals of days and months no budget reads any more.
  usageTotals: statement(
    'dg_prune_usage_totals',
    `WITH gone AS (
       DELETE FROM usage_totals WHERE (ext, period) IN (
         SELECT ext, period FROM usage_totals WHERE (period >= 'd:' AND period < $1) OR (period >= 'm:' AND period < $2)
         LIMIT $3 FOR UPDATE SKIP LOCKED
       ) RETURNING 1
     ) SELECT count(*) AS "usageTotals" FROM gone`,
  ),
};

/** One pruning run, in batches, each its own statement on the pool. */
export async function pruneAudit(pool: pg.Pool, options: PruneOptions): Promise<PruneReport> {
  const before = pruneBefore(options);
  const n = options.batchRows;
  const periods = keptPeriods(before);
  const velocityBefore = options.now - VELOCITY_KEEP_MS;
  const pruned = noneYet();
  let transactions = 0;
  const steps: Array<() => Promise<Partial<PruneCounts>>> = [
    async () => (await run<Partial<PruneCounts>>(pool, S.alerts, [idTime(before), before, n]))[0] ?? {},
    async () => (await run<Partial<PruneCounts>>(pool, S.decisions, [before, n, idTime(before + HOUR_MS)]))[0] ?? {},
    async () => (await run<Partial<PruneCounts>>(pool, S.orphanSettlements, [before, n]))[0] ?? {},
    async () => (await run<Partial<PruneCounts>>(pool, S.velocityAttempts, [velocityBefore, n]))[0] ?? {},
    async () => (await run<Partial<PruneCounts>>(pool, S.velocityDestinations, [velocityBefore, n]))[0] ?? {},
    async () => (await run<Partial<PruneCounts>>(pool, S.usageTotals, [periods.day, periods.month, n]))[0] ?? {},
  ];
  for (const step of steps) {
    for (;;) {
      if (options.stopped?.()) return { before, pruned, transactions };
      const deleted = await step();
      transactions++;
      let most = 0;
      for (const [key, count] of Object.entries(deleted) as Array<[keyof PruneCounts, number]>) {
        pruned[key] += count;
        most = Math.max(most, count);
      }
      await sleep(options.pauseMs);
      // A batch that found less than it could take was the step's last: what it skipped is kept, or held by a decision.
      if (most < n) break;
    }
  }
  return { before, pruned, transactions };
}
