import type { Database } from 'better-sqlite3';
import type { DecisionRequest } from '../../domain/decision.js';
import type { NewReservation } from '../reservation-rows.js';
import type { AuditedDecision } from '../roles/decisions.js';
import { auditParams } from './audit.js';
import { reservationParams } from './reservations.js';

/**
 * A decision's writes in one statement: its audit row and, when it reserved, the reservation, the
 * day's and month's totals and the slot, written by the trigger of the decision_writes view
 * (migration 7). One call into SQLite where there were five.
 */
export function createDecisionWriter(db: Database) {
  const write = db.prepare(
    `INSERT INTO decision_writes (id, at, transport, ext, dialled, e164, country, number_type, source, source_ip, source_country,
       origin, result, reason, message, limit_ms, reserved_seconds, reserved_micros, policy_version, latency_us, checks, meta,
       mode, would_deny, would_reason, r_per_minute_micros, r_increment, r_minimum, r_day, r_month, r_expires_at)
     VALUES (@id, @at, @transport, @ext, @dialled, @e164, @country, @numberType, @source, @sourceIp, @sourceCountry,
       @origin, @result, @reason, @message, @limitMs, @reservedSeconds, @reservedMicros, @policyVersion, @latencyUs, @checks, @meta,
       @mode, @wouldDeny, @wouldReason, @rPerMinuteMicros, @rIncrement, @rMinimum, @rDay, @rMonth, @rExpiresAt)`,
  );
  return (request: DecisionRequest, decision: AuditedDecision, latencyUs: number, reservation: NewReservation | null): void => {
    // The reservation's checks come first: a value refused leaves nothing written.
    const reserved = reservationParams(reservation);
    write.run({ ...auditParams(request, decision, latencyUs), ...reserved });
  };
}
