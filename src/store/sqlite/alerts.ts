import type { Database, Statement } from 'better-sqlite3';
import type { AlertDetails, AlertKind, AlertSeverity } from '../../domain/alert.js';
import type { AlertDraft } from '../../fraud/effects.js';
import type { AlertDelivery, AlertFilter, AlertPage, AlertRecord } from '../roles/alerts.js';

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
  shadow: number;
  decision_id: string | null;
  details: string;
  acked_at: number | null;
  acked_by: string | null;
  delivery_status: AlertDelivery['status'];
  delivery_attempts: number;
  delivery_next_at: number | null;
  delivery_error: string | null;
  delivered_to: string;
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
  shadow: row.shadow === 1,
  decisionId: row.decision_id,
  details: JSON.parse(row.details) as AlertDetails,
  acknowledged: row.acked_at === null ? null : { at: row.acked_at, by: row.acked_by ?? '' },
  delivery: {
    status: row.delivery_status,
    attempts: row.delivery_attempts,
    nextAt: row.delivery_next_at,
    lastError: row.delivery_error,
    deliveredTo: JSON.parse(row.delivered_to) as string[],
  },
});

/**
 * Alerts: written in the transaction of the decision that raised them, delivered afterwards by
 * the webhook queue (src/alerts), which claims due rows with a lease so that several guard
 * processes on one database never send the same attempt twice.
 */
export function createAlertRepository(db: Database) {
  const statements = new Map<string, Statement<[Record<string, unknown>], AlertRow>>();
  const s = {
    insert: db.prepare(
      `INSERT INTO alerts (id, at, last_at, kind, severity, ext, check_name, counter, message, shadow, decision_id, details, dedup_key, delivery_next_at)
       VALUES (@id, @at, @at, @kind, @severity, @ext, @check, @counter, @message, @shadow, @decisionId, @details, @dedupKey, @at)`,
    ),
    recurring: db.prepare<[string, number], string>(`SELECT id FROM alerts WHERE dedup_key = ? AND last_at > ? ORDER BY last_at DESC LIMIT 1`).pluck(),
    recur: db.prepare<[number, string]>(`UPDATE alerts SET occurrences = occurrences + 1, last_at = max(last_at, ?) WHERE id = ?`),
    get: db.prepare<[string], AlertRow>(`SELECT * FROM alerts WHERE id = ?`),
    ack: db.prepare<[number, string, string]>(`UPDATE alerts SET acked_at = ?, acked_by = ? WHERE id = ? AND acked_at IS NULL`),
    due: db.prepare<[number, number], AlertRow>(
      `SELECT * FROM alerts WHERE delivery_status = 'pending' AND delivery_next_at <= ? ORDER BY delivery_next_at LIMIT ?`,
    ),
    lease: db.prepare<[number, string]>(`UPDATE alerts SET delivery_next_at = ? WHERE id = ?`),
    next: db.prepare<[], number | null>(`SELECT MIN(delivery_next_at) FROM alerts WHERE delivery_status = 'pending'`).pluck(),
    delivery: db.prepare(
      `UPDATE alerts SET delivery_status = @status, delivery_attempts = @attempts, delivery_next_at = @nextAt,
         delivery_error = @lastError, delivered_to = @deliveredTo WHERE id = @id`,
    ),
  };

  const get = (id: string): AlertRecord | null => {
    const row = s.get.get(id);
    return row ? toRecord(row) : null;
  };

  return {
    /**
     * Inserts the alert under `id`, or counts one more occurrence of the same one; true when it
     * is new. `details` is built only then: a repeat within its window costs one update.
     */
    raise(id: string, alert: AlertDraft, details: () => AlertDetails): boolean {
      if (alert.dedupKey !== null) {
        const existing = s.recurring.get(alert.dedupKey, alert.at - alert.dedupWindowMs);
        if (existing !== undefined) {
          s.recur.run(alert.at, existing);
          return false;
        }
      }
      const { at, kind, severity, ext, check, counter, message, decisionId, dedupKey } = alert;
      s.insert.run({ id, at, kind, severity, ext, check, counter, message, shadow: alert.shadow ? 1 : 0, decisionId, details: JSON.stringify(details()), dedupKey });
      return true;
    },

    get,

    list(filter: AlertFilter, page: AlertPage): AlertRecord[] {
      const clauses: string[] = [];
      if (filter.ext !== undefined) clauses.push('ext = @ext');
      if (filter.kind !== undefined) clauses.push('kind = @kind');
      if (filter.acknowledged !== undefined) clauses.push(filter.acknowledged ? 'acked_at IS NOT NULL' : 'acked_at IS NULL');
      if (page.beforeId !== undefined) clauses.push('id < @beforeId');
      const text = `SELECT * FROM alerts ${clauses.length ? `WHERE ${clauses.join(' AND ')}` : ''} ORDER BY id DESC LIMIT @limit`;
      let statement = statements.get(text);
      if (!statement) {
        statement = db.prepare<[Record<string, unknown>], AlertRow>(text);
        statements.set(text, statement);
      }
      return statement.all({ ext: filter.ext, kind: filter.kind, beforeId: page.beforeId, limit: page.limit }).map(toRecord);
    },

    acknowledge(id: string, actor: string, at: number): AlertRecord | null {
      s.ack.run(at, actor, id);
      return get(id);
    },

    /** Due alerts, each leased until `now + leaseMs`; call inside a write transaction. */
    claimDue(now: number, limit: number, leaseMs: number): AlertRecord[] {
      const rows = s.due.all(now, limit);
      for (const row of rows) s.lease.run(now + leaseMs, row.id);
      return rows.map(toRecord);
    },

    nextDue: (): number | null => s.next.get() ?? null,

    recordDelivery(id: string, update: AlertDelivery): void {
      s.delivery.run({ id, ...update, deliveredTo: JSON.stringify(update.deliveredTo) });
    },
  };
}

export type AlertRepository = ReturnType<typeof createAlertRepository>;
