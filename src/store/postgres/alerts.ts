import type { AlertDetails, AlertKind, AlertSeverity } from '../../domain/alert.js';
import type { AlertDraft } from '../../fraud/effects.js';
import type { AlertDelivery, AlertFilter, AlertPage, AlertRecord } from '../roles/alerts.js';
import { run, statement, type Db } from './connection.js';

interface AlertRow {
  id: string;
  at: number;
  last_at: number;
  occurrences: number;
  kind: AlertKind;
  severity: AlertSeverity;
  ext: string | null;
  check_name: string | null;
  counter: string | null;
  message: string;
  shadow: boolean;
  decision_id: string | null;
  details: AlertDetails;
  acked_at: number | null;
  acked_by: string | null;
  delivery_status: AlertDelivery['status'];
  delivery_attempts: number;
  delivery_next_at: number | null;
  delivery_error: string | null;
  delivered_to: string[];
}

const toRecord = (row: AlertRow): AlertRecord => ({
  id: row.id,
  at: row.at,
  lastAt: row.last_at,
  occurrences: row.occurrences,
  kind: row.kind,
  severity: row.severity,
  ext: row.ext,
  check: row.check_name,
  counter: row.counter,
  message: row.message,
  shadow: row.shadow,
  decisionId: row.decision_id,
  details: row.details,
  acknowledged: row.acked_at === null ? null : { at: row.acked_at, by: row.acked_by ?? '' },
  delivery: {
    status: row.delivery_status,
    attempts: row.delivery_attempts,
    nextAt: row.delivery_next_at,
    lastError: row.delivery_error,
    deliveredTo: row.delivered_to,
  },
});

const S = {
  // One more occurrence of the same alert within its window, if there is one.
  recur: statement(
    'dg_alert_recur',
    `UPDATE alerts SET occurrences = occurrences + 1, last_at = GREATEST(last_at, $1)
     WHERE id = (SELECT id FROM alerts WHERE dedup_key = $2 AND last_at > $3 ORDER BY last_at DESC LIMIT 1) RETURNING id`,
  ),
  insert: statement(
    'dg_alert_insert',
    `INSERT INTO alerts (id, at, last_at, kind, severity, ext, check_name, counter, message, shadow, decision_id, details, dedup_key, delivery_next_at)
     VALUES ($1, $2, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::json, $12, $2)`,
  ),
  get: statement('dg_alert', `SELECT * FROM alerts WHERE id = $1`),
  ack: statement(
    'dg_alert_ack',
    `WITH acked AS (UPDATE alerts SET acked_at = $1, acked_by = $2 WHERE id = $3 AND acked_at IS NULL RETURNING *)
     SELECT * FROM acked UNION ALL SELECT * FROM alerts WHERE id = $3 AND NOT EXISTS (SELECT 1 FROM acked)`,
  ),
  // Rows another guard is claiming are skipped, never waited for; each is returned as it was before its lease.
  claim: statement(
    'dg_alert_claim',
    `WITH due AS (
       SELECT id, delivery_next_at AS due_at FROM alerts WHERE delivery_status = 'pending' AND delivery_next_at <= $1
       ORDER BY delivery_next_at, id LIMIT $2 FOR UPDATE SKIP LOCKED
     ), leased AS (
       UPDATE alerts a SET delivery_next_at = $3 FROM due WHERE a.id = due.id RETURNING a.*, due.due_at
     )
     SELECT * FROM leased ORDER BY due_at, id`,
  ),
  next: statement('dg_alert_next', `SELECT min(delivery_next_at) AS next FROM alerts WHERE delivery_status = 'pending'`),
  delivery: statement(
    'dg_alert_delivery',
    `UPDATE alerts SET delivery_status = $2, delivery_attempts = $3, delivery_next_at = $4, delivery_error = $5, delivered_to = $6::json WHERE id = $1`,
  ),
};

/**
 * Alerts, as in the SQLite store: written in the transaction of the decision that raised them,
 * delivered afterwards by the webhook queue, which claims due rows with a lease so that several
 * guards on one database never send the same attempt twice.
 */
export const alerts = {
  /** Inserts the alert under `id`, or counts one more occurrence of the same one; `details` is read only for a new one. */
  async raise(db: Db, id: string, alert: AlertDraft, details: () => Promise<AlertDetails>): Promise<boolean> {
    if (alert.dedupKey !== null) {
      const recurred = await run(db, S.recur, [alert.at, alert.dedupKey, alert.at - alert.dedupWindowMs]);
      if (recurred.length > 0) return false;
    }
    const { at, kind, severity, ext, check, counter, message, shadow, decisionId, dedupKey } = alert;
    await run(db, S.insert, [id, at, kind, severity, ext, check, counter, message, shadow, decisionId, JSON.stringify(await details()), dedupKey]);
    return true;
  },

  async get(db: Db, id: string): Promise<AlertRecord | null> {
    const [row] = await run<AlertRow>(db, S.get, [id]);
    return row ? toRecord(row) : null;
  },

  async list(db: Db, filter: AlertFilter, page: AlertPage): Promise<AlertRecord[]> {
    const clauses: string[] = [];
    const values: unknown[] = [];
    const param = (value: unknown): string => {
      values.push(value);
      return `$${values.length}`;
    };
    if (filter.ext !== undefined) clauses.push(`ext = ${param(filter.ext)}`);
    if (filter.kind !== undefined) clauses.push(`kind = ${param(filter.kind)}`);
    if (filter.acknowledged !== undefined) clauses.push(filter.acknowledged ? 'acked_at IS NOT NULL' : 'acked_at IS NULL');
    if (page.beforeId !== undefined) clauses.push(`id < ${param(page.beforeId)}`);
    const text = `SELECT * FROM alerts ${clauses.length ? `WHERE ${clauses.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ${param(page.limit)}`;
    return (await run<AlertRow>(db, text, values)).map(toRecord);
  },

  async acknowledge(db: Db, id: string, actor: string, at: number): Promise<AlertRecord | null> {
    const [row] = await run<AlertRow>(db, S.ack, [at, actor, id]);
    return row ? toRecord(row) : null;
  },

  async claimDue(db: Db, now: number, limit: number, leaseMs: number): Promise<AlertRecord[]> {
    const rows = await run<AlertRow & { due_at: number }>(db, S.claim, [now, limit, now + leaseMs]);
    return rows.map((row) => toRecord({ ...row, delivery_next_at: row.due_at }));
  },

  async nextDue(db: Db): Promise<number | null> {
    const [row] = await run<{ next: number | null }>(db, S.next, []);
    return row?.next ?? null;
  },

  async recordDelivery(db: Db, id: string, update: AlertDelivery): Promise<void> {
    await run(db, S.delivery, [id, update.status, update.attempts, update.nextAt, update.lastError, JSON.stringify(update.deliveredTo)]);
  },
};
