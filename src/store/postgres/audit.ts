import type { CheckOutcome, DecisionRequest } from '../../domain/decision.js';
import type { DecisionFilter, DecisionPage, DecisionRecord, SettlementRecord } from '../roles/audit.js';
import type { AuditedDecision } from '../roles/decisions.js';
import { run, statement, type Db } from './connection.js';

/** Rows read per query while exporting: large enough to be quick, small enough to stay flat in memory. */
const EXPORT_BATCH = 500;

interface DecisionRow {
  id: string;
  at: number;
  transport: DecisionRequest['transport'];
  ext: string;
  dialled: string;
  e164: string | null;
  country: string | null;
  number_type: DecisionRecord['numberType'];
  source: string;
  source_ip: string | null;
  source_country: string | null;
  origin: string;
  result: DecisionRecord['result'];
  reason: DecisionRecord['reason'];
  message: string;
  limit_ms: number;
  reserved_seconds: number | null;
  reserved_micros: number | null;
  policy_version: number;
  latency_us: number;
  checks: CheckOutcome[];
  meta: Record<string, string>;
  mode: 'enforce' | 'shadow';
  would_deny: boolean;
  would_reason: DecisionRecord['reason'] | null;
}

interface SettlementRow {
  at: number;
  answered_seconds: number;
  dial_status: string;
  outcome: SettlementRecord['outcome'];
  cost_micros: number;
  reported: string | null;
  clamped: boolean;
}

const S = {
  insert: statement(
    'dg_decision_insert',
    `INSERT INTO decisions (id, at, transport, ext, dialled, e164, country, number_type, source, source_ip, source_country,
       origin, result, reason, message, limit_ms, reserved_seconds, reserved_micros, policy_version, latency_us, checks, meta,
       mode, would_deny, would_reason)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21::json, $22::json, $23, $24, $25)`,
  ),
  get: statement('dg_decision', `SELECT * FROM decisions WHERE id = $1`),
  recent: statement(
    'dg_decisions_recent',
    `SELECT id, coalesce(e164, dialled) AS number FROM decisions WHERE ext = $1 AND at > $2 ORDER BY at DESC, id DESC LIMIT $3`,
  ),
  settlements: statement(
    'dg_settlements',
    `SELECT at, answered_seconds, dial_status, outcome, cost_micros, reported, clamped FROM settlements WHERE call_id = $1 ORDER BY id`,
  ),
};

const toRecord = (row: DecisionRow): DecisionRecord => ({
  callId: row.id,
  at: row.at,
  transport: row.transport,
  extension: row.ext,
  dialled: row.dialled,
  sourceAddress: row.source,
  origin: row.origin,
  result: row.result,
  reason: row.reason,
  message: row.message,
  limitMs: row.limit_ms,
  e164: row.e164,
  country: row.country,
  numberType: row.number_type,
  source: { ip: row.source_ip, country: row.source_country },
  checks: row.checks,
  reservedSeconds: row.reserved_seconds,
  reservedMicros: row.reserved_micros,
  policyVersion: row.policy_version,
  latencyUs: row.latency_us,
  meta: row.meta,
  // Only shadow-mode rows carry these, as only shadow-mode decisions do.
  ...(row.mode === 'shadow' ? { mode: row.mode, wouldDeny: row.would_deny, wouldReason: row.would_reason ?? 'allowed' } : {}),
});

/** SQL conditions of a filter with positional parameters; `number` is a prefix matched literally, never a LIKE pattern from outside. */
function where(filter: DecisionFilter, after: DecisionPage['after']): { sql: string; values: unknown[] } {
  const clauses: string[] = [];
  const values: unknown[] = [];
  const param = (value: unknown): string => {
    values.push(value);
    return `$${values.length}`;
  };
  const equal = (column: string, value: unknown): void => {
    if (value !== undefined) clauses.push(`${column} = ${param(value)}`);
  };
  equal('ext', filter.ext);
  equal('result', filter.result);
  equal('reason', filter.reason);
  equal('country', filter.country);
  equal('would_reason', filter.wouldReason);
  if (filter.from !== undefined) clauses.push(`at >= ${param(filter.from)}`);
  if (filter.to !== undefined) clauses.push(`at < ${param(filter.to)}`);
  if (filter.number !== undefined) {
    const prefix = param(filter.number);
    clauses.push(`(starts_with(dialled, ${prefix}) OR starts_with(e164, ${prefix}))`);
  }
  // A literal, not a parameter: the partial index decisions_shadow applies only then.
  if (filter.wouldDeny) clauses.push('would_deny');
  if (after) clauses.push(`(at, id) < (${param(after.at)}, ${param(after.id)})`);
  return { sql: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', values };
}

async function page(db: Db, filter: DecisionFilter, p: DecisionPage): Promise<DecisionRecord[]> {
  const { sql, values } = where(filter, p.after);
  values.push(p.limit);
  return (await run<DecisionRow>(db, `SELECT * FROM decisions ${sql} ORDER BY at DESC, id DESC LIMIT $${values.length}`, values)).map(toRecord);
}

/** The decision audit: one row per decision, written in the transaction that decided it; keyset paging on (at, id), newest first. */
export const audit = {
  /** Sent at once (see Defer): the row is built, and may fail, before this returns. */
  insert(db: Db, request: DecisionRequest, decision: AuditedDecision, latencyUs: number): Promise<unknown> {
    return run(db, S.insert, [
      decision.callId,
      request.at.getTime(),
      request.transport,
      request.extension,
      request.dialled,
      decision.e164,
      decision.country,
      decision.numberType,
      request.source,
      decision.source.ip,
      decision.source.country,
      request.origin,
      decision.result,
      decision.reason,
      decision.message,
      decision.limitMs,
      decision.grant?.seconds ?? null,
      decision.grant?.costMicros ?? null,
      decision.policyVersion,
      Math.round(latencyUs),
      JSON.stringify(decision.checks),
      JSON.stringify(request.meta ?? {}),
      decision.mode ?? 'enforce',
      decision.wouldDeny === true,
      decision.wouldReason ?? null,
    ]);
  },

  async get(db: Db, id: string): Promise<DecisionRecord | null> {
    const [row] = await run<DecisionRow>(db, S.get, [id]);
    return row ? toRecord(row) : null;
  },

  /** The extension's decisions after `since`, newest first: the calls an alert lists. */
  recent: (db: Db, ext: string, since: number, limit: number): Promise<Array<{ id: string; number: string }>> => run(db, S.recent, [ext, since, limit]),

  list: page,

  /** A page per query, the pool free between them: constant memory, and an export never holds a connection while its reader is slow. */
  async *export(db: Db, filter: DecisionFilter): AsyncGenerator<DecisionRecord> {
    let after: DecisionPage['after'];
    for (;;) {
      const batch = await page(db, filter, { limit: EXPORT_BATCH, after });
      yield* batch;
      const last = batch.at(-1);
      if (batch.length < EXPORT_BATCH || !last) return;
      after = { at: last.at, id: last.callId };
    }
  },

  async settlements(db: Db, callId: string): Promise<SettlementRecord[]> {
    return (await run<SettlementRow>(db, S.settlements, [callId])).map((row) => ({
      at: row.at,
      answeredSeconds: row.answered_seconds,
      dialStatus: row.dial_status,
      outcome: row.outcome,
      costMicros: row.cost_micros,
      reported: row.reported,
      clamped: row.clamped,
    }));
  },
};
