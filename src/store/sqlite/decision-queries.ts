import type { Database, Statement } from 'better-sqlite3';
import type { DecisionFilter, DecisionPage, DecisionRecord, SettlementRecord } from '../roles/audit.js';
import type { ReservationRecord } from '../roles/usage.js';

/** Rows read per query while exporting: large enough to be quick, small enough to stay flat in memory. */
const EXPORT_BATCH = 500;

interface SettlementRow {
  at: number;
  answered_seconds: number;
  dial_status: string;
  outcome: SettlementRecord['outcome'];
  cost_micros: number;
  reported: string | null;
  clamped: number;
}

/** SQL conditions of a filter, with named parameters; `number` is a prefix, never a LIKE pattern from outside. */
function where(filter: DecisionFilter, keyset: boolean): { sql: string; params: Record<string, unknown> } {
  const clauses: string[] = [];
  const params: Record<string, unknown> = {};
  const equal = (column: string, name: keyof DecisionFilter) => {
    if (filter[name] === undefined) return;
    clauses.push(`${column} = @${name}`);
    params[name] = filter[name];
  };
  equal('ext', 'ext');
  equal('result', 'result');
  equal('reason', 'reason');
  equal('country', 'country');
  equal('would_reason', 'wouldReason');
  if (filter.from !== undefined) {
    clauses.push('at >= @from');
    params.from = filter.from;
  }
  if (filter.to !== undefined) {
    clauses.push('at < @to');
    params.to = filter.to;
  }
  if (filter.number !== undefined) {
    // substr() rather than LIKE: the prefix is matched literally whatever characters it has.
    clauses.push('(substr(dialled, 1, @numberLength) = @number OR substr(e164, 1, @numberLength) = @number)');
    params.number = filter.number;
    params.numberLength = filter.number.length;
  }
  // A literal, not a parameter: the partial index decisions_shadow applies only then.
  if (filter.wouldDeny) clauses.push('would_deny = 1');
  if (keyset) clauses.push('(at, id) < (@afterAt, @afterId)');
  return { sql: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

/**
 * The audit's read side for the admin API. Paging is by keyset on (at, id), newest first: a
 * page never shifts when decisions arrive, and reading page 10,000 costs what page 1 does.
 */
export function createDecisionQueries(db: Database, getDecision: (id: string) => DecisionRecord | null, getReservation: (id: string) => ReservationRecord | null) {
  const statements = new Map<string, Statement<[Record<string, unknown>], string>>();
  const s = {
    settlements: db.prepare<[string], SettlementRow>(
      `SELECT at, answered_seconds, dial_status, outcome, cost_micros, reported, clamped FROM settlements WHERE call_id = ? ORDER BY id`,
    ),
    active: db.prepare<[number], string>(`SELECT call_id FROM reservations WHERE status = 'active' AND expires_at > ? ORDER BY created_at, call_id`).pluck(),
    activeOf: db.prepare<[string, number], string>(
      `SELECT call_id FROM reservations WHERE ext = ? AND status = 'active' AND expires_at > ? ORDER BY created_at, call_id`,
    ).pluck(),
    countActive: db.prepare<[number], number>(`SELECT COUNT(*) FROM reservations WHERE status = 'active' AND expires_at > ?`).pluck(),
  };

  /** The ids of one page. Statements are cached by their SQL: one per combination of filters used. */
  const pageIds = (filter: DecisionFilter, page: DecisionPage): string[] => {
    const { sql, params } = where(filter, page.after !== undefined);
    const text = `SELECT id FROM decisions ${sql} ORDER BY at DESC, id DESC LIMIT @limit`;
    let statement = statements.get(text);
    if (!statement) {
      statement = db.prepare<[Record<string, unknown>], string>(text).pluck();
      statements.set(text, statement);
    }
    return statement.all({ ...params, limit: page.limit, afterAt: page.after?.at, afterId: page.after?.id });
  };

  const records = (ids: string[]): DecisionRecord[] => ids.map(getDecision).filter((d): d is DecisionRecord => d !== null);

  return {
    list: (filter: DecisionFilter, page: DecisionPage): DecisionRecord[] => records(pageIds(filter, page)),

    *export(filter: DecisionFilter): Generator<DecisionRecord> {
      let after: DecisionPage['after'];
      for (;;) {
        const ids = pageIds(filter, { limit: EXPORT_BATCH, after });
        const batch = records(ids);
        yield* batch;
        const last = batch.at(-1);
        if (ids.length < EXPORT_BATCH || !last) return;
        after = { at: last.at, id: last.callId };
      }
    },

    settlements: (callId: string): SettlementRecord[] =>
      s.settlements.all(callId).map((row) => ({
        at: row.at,
        answeredSeconds: row.answered_seconds,
        dialStatus: row.dial_status,
        outcome: row.outcome,
        costMicros: row.cost_micros,
        reported: row.reported,
        clamped: row.clamped === 1,
      })),

    activeReservations(at: Date, ext?: string): ReservationRecord[] {
      const ids = ext === undefined ? s.active.all(at.getTime()) : s.activeOf.all(ext, at.getTime());
      return ids.map(getReservation).filter((r): r is ReservationRecord => r !== null);
    },

    countActive: (at: Date): number => s.countActive.get(at.getTime()) ?? 0,
  };
}
