import type { DecisionRequest, Grant } from '../domain/decision.js';
import type { PricedRate } from '../domain/rate.js';
import { periodsAt, type Periods } from './periods.js';
import type { AuditedDecision } from './roles/decisions.js';
import type { ReservationRecord } from './roles/usage.js';

/** A reservations row as both stores keep it (the same columns in SQLite and PostgreSQL). */
export interface ReservationRow {
  call_id: string;
  ext: string;
  e164: string;
  per_minute_micros: number;
  increment: number;
  minimum: number;
  day: string;
  month: string;
  reserved_seconds: number;
  reserved_micros: number;
  created_at: number;
  expires_at: number;
  status: ReservationRecord['status'];
  answered_seconds: number | null;
  dial_status: string | null;
  cost_micros: number | null;
  /** The decision's signalling source address; null when it had none (or was reserved before it was kept). */
  source_ip: string | null;
}

/** What the decision path hands a store to reserve. */
export interface NewReservation {
  callId: string;
  ext: string;
  e164: string;
  rate: PricedRate;
  grant: Grant;
  periods: Periods;
  createdAt: number;
  expiresAt: number;
  /** The decision's signalling source address (no port), for the calls in progress per source. */
  sourceIp: string | null;
}

/**
 * What an allowed decision reserves: its slot and the cost of its limit, in the periods of the
 * policy's timezone, until the limit plus the grace period (then it expires unsettled). A denial
 * or a call without a grant (emergency) reserves nothing.
 */
export function reservationOf(request: DecisionRequest, audited: AuditedDecision, timezone: string, graceMs: number): NewReservation | null {
  if (audited.result !== 'ALLOW' || !audited.grant || !audited.e164) return null;
  const at = request.at.getTime();
  return {
    callId: audited.callId,
    ext: request.extension,
    e164: audited.e164,
    rate: audited.grant.rate,
    grant: audited.grant,
    periods: periodsAt(request.at, timezone),
    createdAt: at,
    expiresAt: at + audited.grant.seconds * 1000 + graceMs,
    sourceIp: audited.source.ip,
  };
}
