import type { Database } from 'better-sqlite3';
import type { DecisionRequest } from '../../domain/decision.js';
import type { DecisionRecord } from '../roles/audit.js';
import type { AuditedDecision } from '../roles/decisions.js';
import { packChecks, packText, unpackChecks, unpackText } from './packed-checks.js';
import { packMeta, unpackMeta } from './packed-meta.js';

interface DecisionRow {
  id: string;
  at: number;
  transport: DecisionRequest['transport'];
  ext: string;
  dialled: string;
  e164: string | null;
  country: string | null;
  number_type: string | null;
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
  checks: string;
  meta: string;
  mode: 'enforce' | 'shadow';
  would_deny: number;
  would_reason: DecisionRecord['reason'] | null;
}

/** The decision audit: one row per decision, written in the transaction that decided it. */
export function createAuditRepository(db: Database) {
  const s = {
    insert: db.prepare(
      `INSERT INTO decisions (id, at, transport, ext, dialled, e164, country, number_type, source, source_ip, source_country,
         origin, result, reason, message, limit_ms, reserved_seconds, reserved_micros, policy_version, latency_us, checks, meta,
         mode, would_deny, would_reason)
       VALUES (@id, @at, @transport, @ext, @dialled, @e164, @country, @numberType, @source, @sourceIp, @sourceCountry,
         @origin, @result, @reason, @message, @limitMs, @reservedSeconds, @reservedMicros, @policyVersion, @latencyUs, @checks, @meta,
         @mode, @wouldDeny, @wouldReason)`,
    ),
    get: db.prepare<[string], DecisionRow>(`SELECT * FROM decisions WHERE id = ?`),
  };

  return {
    insert(request: DecisionRequest, decision: AuditedDecision, latencyUs: number): void {
      s.insert.run({
        id: decision.callId,
        at: request.at.getTime(),
        transport: request.transport,
        ext: request.extension,
        dialled: request.dialled,
        e164: decision.e164,
        country: decision.country,
        numberType: decision.numberType === null ? null : packText(decision.numberType),
        source: request.source,
        sourceIp: decision.source.ip,
        sourceCountry: decision.source.country,
        origin: request.origin,
        result: decision.result,
        reason: decision.reason,
        message: packText(decision.message),
        limitMs: decision.limitMs,
        reservedSeconds: decision.grant?.seconds ?? null,
        reservedMicros: decision.grant?.costMicros ?? null,
        policyVersion: decision.policyVersion,
        latencyUs: Math.round(latencyUs),
        checks: packChecks(decision.checks),
        meta: packMeta(request.meta ?? {}),
        mode: decision.mode ?? 'enforce',
        wouldDeny: decision.wouldDeny ? 1 : 0,
        wouldReason: decision.wouldReason ?? null,
      });
    },

    get(id: string): DecisionRecord | null {
      const row = s.get.get(id);
      if (!row) return null;
      return {
        callId: row.id,
        at: row.at,
        transport: row.transport,
        extension: row.ext,
        dialled: row.dialled,
        sourceAddress: row.source,
        origin: row.origin,
        result: row.result,
        reason: row.reason,
        message: unpackText(row.message),
        limitMs: row.limit_ms,
        e164: row.e164,
        country: row.country,
        numberType: row.number_type === null ? null : (unpackText(row.number_type) as DecisionRecord['numberType']),
        source: { ip: row.source_ip, country: row.source_country },
        checks: unpackChecks(row.checks),
        reservedSeconds: row.reserved_seconds,
        reservedMicros: row.reserved_micros,
        policyVersion: row.policy_version,
        latencyUs: row.latency_us,
        meta: unpackMeta(row.meta),
        // Only shadow-mode rows carry these, as only shadow-mode decisions do.
        ...(row.mode === 'shadow' ? { mode: row.mode, wouldDeny: row.would_deny === 1, wouldReason: row.would_reason ?? 'allowed' } : {}),
      };
    },
  };
}
