import { setTimeout as sleep } from 'node:timers/promises';
import type { Database, Statement } from 'better-sqlite3';
import type { Logger } from 'pino';
import { HOUR_MS } from '../../domain/windows.js';
import { idTime } from '../ids.js';
import { keptPeriods, noneYet, pruneBefore, scheduleRetention, type PruneCounts, type PruneOptions, type PruneReport, type Retention } from '../retention.js';
import { openDatabase } from './open.js';
import { KEEP_MS as VELOCITY_KEEP_MS } from './velocity.js';

/**
 * Audit retention: decisions older than the retention, with their reservations and
 * settlements, old alerts, and the rows that no budget or counter reads any more, are deleted in
 * the background. Each batch is its own short write transaction of at most `batchRows` rows of one
 * table (a decision takes its reservation and settlements with it), with a pause after it in which
 * the decision path runs: a run never holds the write lock for long.
 *
 * Kept whatever their age: decisions whose reservation is still active (an unsettled call's
 * reservation is expired by its extension's next call, and its slot with it), decisions that a
 * kept alert names, alerts whose webhook delivery is pending, the running totals of the current
 * day and month, velocity rows inside their windows, the circuit breaker's hour of spend (it drops
 * its own rows), the policy history (it versions the policy). Deleted pages are reused by SQLite
 * for new rows: the file stops growing, it does not shrink.
 */
/** One transaction's work: what it deleted, and whether its step has nothing more to delete. */
type Batch = () => { deleted: Partial<PruneCounts>; done: boolean };

/** One pruning run over `db`, in batches. */
export async function pruneAudit(db: Database, options: PruneOptions): Promise<PruneReport> {
  const before = pruneBefore(options);
  const n = options.batchRows;
  const pruned = noneYet();
  let transactions = 0;
  const steps: Array<() => Batch> = [
    () => oldAlerts(db, before, n),
    () => oldDecisions(db, before, n),
    () => orphanSettlements(db, before, n),
    () => velocityAttempts(db, options.now - VELOCITY_KEEP_MS, n),
    () =>
      perExtension(
        db,
        'velocity_destinations',
        `DELETE FROM velocity_destinations WHERE ext = @ext AND destination IN
           (SELECT destination FROM velocity_destinations WHERE ext = @ext AND last_at <= @before LIMIT @left)`,
        { before: options.now - VELOCITY_KEEP_MS },
        'velocityDestinations',
        n,
      ),
    () =>
      perExtension(
        db,
        'usage_totals',
        `DELETE FROM usage_totals WHERE ext = @ext AND period IN
           (SELECT period FROM usage_totals WHERE ext = @ext
              AND ((period >= 'd:' AND period < @day) OR (period >= 'm:' AND period < @month)) LIMIT @left)`,
        keptPeriods(before),
        'usageTotals',
        n,
      ),
  ];
  for (const step of steps) {
    const batch = db.transaction(step());
    for (;;) {
      if (options.stopped?.()) return { before, pruned, transactions };
      let result: ReturnType<Batch>;
      try {
        result = batch.immediate();
      } catch (err) {
        // Another process holds the write lock: this connection never waits for it, it comes back.
        if ((err as { code?: string }).code !== 'SQLITE_BUSY') throw err;
        await sleep(options.pauseMs);
        continue;
      }
      const { deleted, done } = result;
      transactions++;
      for (const [key, count] of Object.entries(deleted) as Array<[keyof PruneCounts, number]>) pruned[key] += count;
      await sleep(options.pauseMs);
      if (done) break;
    }
  }
  return { before, pruned, transactions };
}

/** Alerts whose last occurrence is older than `before` and whose delivery is over. Ids are ULIDs: by time. */
function oldAlerts(db: Database, before: number, n: number): Batch {
  const page = db.prepare<[string, string, number], { id: string; last_at: number; delivery_status: string }>(
    `SELECT id, last_at, delivery_status FROM alerts WHERE id > ? AND id < ? ORDER BY id LIMIT ?`,
  );
  const remove = db.prepare<[string]>(`DELETE FROM alerts WHERE id = ?`);
  let after = '';
  return () => {
    const rows = page.all(after, idTime(before), n);
    let alerts = 0;
    for (const row of rows) {
      if (row.last_at < before && row.delivery_status !== 'pending') alerts += remove.run(row.id).changes;
    }
    after = rows.at(-1)?.id ?? after;
    return { deleted: { alerts }, done: rows.length < n };
  };
}

/** Decisions older than `before`, oldest first, with their reservations and settlements. */
function oldDecisions(db: Database, before: number, n: number): Batch {
  // An alert lists the decisions of its window (an hour at most) before it: those of the alerts
  // up to an hour past the cutoff, and of older alerts still kept, stay with them.
  const named = new Set<string>();
  const alerts = db.prepare<[string], { decision_id: string | null; details: string }>(`SELECT decision_id, details FROM alerts WHERE id < ?`);
  for (const alert of alerts.iterate(idTime(before + HOUR_MS))) {
    if (alert.decision_id) named.add(alert.decision_id);
    for (const id of (JSON.parse(alert.details) as { decisionIds?: string[] }).decisionIds ?? []) named.add(id);
  }
  const page = db.prepare<[number, number, string, number], { id: string; at: number; status: string | null }>(
    `SELECT d.id, d.at, r.status FROM decisions d LEFT JOIN reservations r ON r.call_id = d.id
     WHERE d.at < ? AND (d.at, d.id) > (?, ?) ORDER BY d.at, d.id LIMIT ?`,
  );
  const s = {
    settlements: db.prepare<[string]>(`DELETE FROM settlements WHERE call_id = ?`),
    reservation: db.prepare<[string]>(`DELETE FROM reservations WHERE call_id = ?`),
    decision: db.prepare<[string]>(`DELETE FROM decisions WHERE id = ?`),
  };
  let after = { at: Number.MIN_SAFE_INTEGER, id: '' };
  return () => {
    const rows = page.all(before, after.at, after.id, n);
    const deleted = { decisions: 0, reservations: 0, settlements: 0 };
    for (const row of rows) {
      if (row.status === 'active' || named.has(row.id)) continue;
      deleted.settlements += s.settlements.run(row.id).changes;
      deleted.reservations += s.reservation.run(row.id).changes;
      deleted.decisions += s.decision.run(row.id).changes;
    }
    const last = rows.at(-1);
    if (last) after = { at: last.at, id: last.id };
    return { deleted, done: rows.length < n };
  };
}

/** Old settlements of no decision (a settle for an unknown call id), oldest first. */
function orphanSettlements(db: Database, before: number, n: number): Batch {
  const page = db.prepare<[number, number], { id: number; at: number; decided: number | null }>(
    `SELECT s.id, s.at, (SELECT 1 FROM decisions d WHERE d.id = s.call_id) AS decided FROM settlements s WHERE s.id > ? ORDER BY s.id LIMIT ?`,
  );
  const remove = db.prepare<[number]>(`DELETE FROM settlements WHERE id = ?`);
  let after = 0;
  return () => {
    const rows = page.all(after, n);
    let settlements = 0;
    for (const row of rows) {
      // Ids grow with time: from the first recent one on, every row is recent.
      if (row.at >= before) return { deleted: { settlements }, done: true };
      if (row.decided === null) settlements += remove.run(row.id).changes;
      after = row.id;
    }
    return { deleted: { settlements }, done: rows.length < n };
  };
}

/** Velocity attempts outside every window. The decision path drops them too, but only as calls come. */
function velocityAttempts(db: Database, before: number, n: number): Batch {
  const prune = db.prepare<[number, number]>(`DELETE FROM velocity_attempts WHERE id IN (SELECT id FROM velocity_attempts ORDER BY id LIMIT ?) AND at <= ?`);
  return () => {
    const velocityAttempts = prune.run(n, before).changes;
    return { deleted: { velocityAttempts }, done: velocityAttempts < n };
  };
}

/**
 * Rows kept per extension (the table's key starts with ext), pruned extension by extension:
 * `sql` deletes at most @left of @ext's old rows.
 */
function perExtension(db: Database, table: string, sql: string, params: Record<string, number | string>, counted: keyof PruneCounts, n: number): Batch {
  const nextExt = db.prepare<[string], string>(`SELECT ext FROM ${table} WHERE ext > ? ORDER BY ext LIMIT 1`).pluck();
  const prune: Statement<[Record<string, number | string>]> = db.prepare(sql);
  let after = '';
  return () => {
    let deleted = 0;
    // Each extension looked at costs an index seek even when it has nothing old: bound those too.
    for (let looked = 0; looked < n && deleted < n; looked++) {
      const ext = nextExt.get(after);
      if (ext === undefined) return { deleted: { [counted]: deleted }, done: true };
      const left = n - deleted;
      const changes = prune.run({ ...params, ext, left }).changes;
      deleted += changes;
      // An extension with more old rows than this batch had room for is taken up again by the next.
      if (changes < left) after = ext;
    }
    return { deleted: { [counted]: deleted }, done: false };
  };
}

export interface RetentionOptions {
  path: string;
  /** 0: keep everything, never prune. */
  days: number;
  logger?: Logger;
  intervalMs?: number;
  batchRows?: number;
  pauseMs?: number;
}

export type { PruneCounts, PruneOptions, PruneReport, Retention } from '../retention.js';

/**
 * Prunes the database at `path` at once, then every `intervalMs`, on a connection of its own
 * that never waits for a lock (a wait would block the event loop): a batch that finds the
 * database locked by another process is tried again after the next pause.
 */
export function startRetention(options: RetentionOptions): Retention {
  let db: Database | null = null;
  return scheduleRetention(
    options,
    (run) => {
      db ??= openDatabase(options.path, { busyTimeoutMs: 0, manualCheckpoints: true });
      return pruneAudit(db, run);
    },
    () => void db?.close(),
  );
}
