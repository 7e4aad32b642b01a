import { Type, type Static } from '@sinclair/typebox';
import { SETTLEMENT_TOLERANCE_SECONDS } from '../bounds.js';
import type { Decision } from '../domain/decision.js';
import { CHECK_NAMES } from '../engine/checks/registry.js';
import type { DecisionRecord, SettlementRecord } from '../store/roles/audit.js';
import type { ReservationRecord } from '../store/roles/usage.js';
import { IsoTime, Money, Nullable, iso, money } from './schemas.js';

/** The audit as the admin API shows it: flat (so CSV and JSON share the columns), times ISO, money in currency units. */

// Strings, not enums: an audit row outlives a check renamed or removed, and must still be served.
const CheckOutcomeSchema = Type.Object({
  name: Type.String({ description: `the check: ${CHECK_NAMES.join(', ')} (GET /checks)` }),
  outcome: Type.Union([Type.Literal('pass'), Type.Literal('fail'), Type.Literal('skip')]),
  reason: Type.Optional(Type.String({ description: 'the reason code of a failure' })),
  detail: Type.String(),
});

const decisionFields = {
  id: Type.String({ description: 'the decision id (a ULID), DIALGUARD_CALL_ID' }),
  at: IsoTime,
  transport: Type.String(),
  ext: Type.String(),
  dialled: Type.String(),
  e164: Nullable(Type.String()),
  country: Nullable(Type.String()),
  numberType: Nullable(Type.String()),
  source: Type.String({ description: 'the source address as Asterisk gave it' }),
  sourceIp: Nullable(Type.String()),
  sourceCountry: Nullable(Type.String()),
  origin: Type.String(),
  result: Type.Union([Type.Literal('ALLOW'), Type.Literal('DENY')]),
  reason: Type.String(),
  message: Type.String(),
  limitMs: Type.Integer(),
  reservedSeconds: Nullable(Type.Integer()),
  reservedCost: Nullable(Money),
  policyVersion: Type.Integer(),
  latencyUs: Type.Integer(),
  mode: Type.Union([Type.Literal('enforce'), Type.Literal('shadow')], { description: 'the policy mode the call was decided in' }),
  wouldDeny: Type.Boolean({ description: 'shadow mode only: enforce mode would have denied this allowed call' }),
  wouldReason: Nullable(Type.String({ description: 'shadow mode only: the reason enforce mode would have given' })),
};

export const DecisionSchema = Type.Object(decisionFields);
export const DecisionDetailSchema = Type.Object({
  ...decisionFields,
  checks: Type.Array(CheckOutcomeSchema, { description: 'every check, in order of precedence' }),
  meta: Type.Record(Type.String(), Type.String(), { description: 'what the transport added: channel, uniqueid…' }),
});

export type DecisionView = Static<typeof DecisionSchema>;
export type DecisionDetailView = Static<typeof DecisionDetailSchema>;

/** The CSV columns of an export, in order: every field of DecisionSchema. */
export const DECISION_COLUMNS = Object.keys(decisionFields) as (keyof DecisionView)[];

export function decisionView(d: DecisionRecord): DecisionView {
  return {
    id: d.callId,
    at: iso(d.at),
    transport: d.transport,
    ext: d.extension,
    dialled: d.dialled,
    e164: d.e164,
    country: d.country,
    numberType: d.numberType,
    source: d.sourceAddress,
    sourceIp: d.source.ip,
    sourceCountry: d.source.country,
    origin: d.origin,
    result: d.result,
    reason: d.reason,
    message: d.message,
    limitMs: d.limitMs,
    reservedSeconds: d.reservedSeconds,
    reservedCost: d.reservedMicros === null ? null : money(d.reservedMicros),
    policyVersion: d.policyVersion,
    latencyUs: d.latencyUs,
    mode: d.mode ?? 'enforce',
    wouldDeny: d.wouldDeny ?? false,
    wouldReason: d.wouldDeny ? (d.wouldReason ?? null) : null,
  };
}

export function decisionDetailView(d: DecisionRecord): DecisionDetailView {
  return { ...decisionView(d), checks: d.checks, meta: d.meta };
}

export const ReservationSchema = Type.Object({
  callId: Type.String(),
  ext: Type.String(),
  e164: Type.String(),
  status: Type.Union([Type.Literal('active'), Type.Literal('settled'), Type.Literal('expired')]),
  reservedSeconds: Type.Integer({ description: 'the limit granted' }),
  reservedCost: Money,
  createdAt: IsoTime,
  expiresAt: IsoTime,
  answeredSeconds: Nullable(Type.Integer()),
  dialStatus: Nullable(Type.String()),
  cost: Nullable(Money),
});

export function reservationView(r: ReservationRecord): Static<typeof ReservationSchema> {
  return {
    callId: r.callId,
    ext: r.ext,
    e164: r.e164,
    status: r.status,
    reservedSeconds: r.reservedSeconds,
    reservedCost: money(r.reservedMicros),
    createdAt: iso(r.createdAt),
    expiresAt: iso(r.expiresAt),
    answeredSeconds: r.answeredSeconds,
    dialStatus: r.dialStatus,
    cost: r.costMicros === null ? null : money(r.costMicros),
  };
}

export const SettlementSchema = Type.Object({
  at: IsoTime,
  answeredSeconds: Type.Integer(),
  dialStatus: Type.String(),
  outcome: Type.String({ description: 'settled, settled_after_expiry, duplicate, unknown or no_reservation' }),
  cost: Money,
  reported: Nullable(Type.String({ description: 'ANSWEREDTIME as the dialplan reported it; null for settlements recorded before dialguard kept it' })),
  clamped: Type.Boolean({ description: `the reported time was longer than the limit granted plus ${SETTLEMENT_TOLERANCE_SECONDS} s, so answeredSeconds and cost are those of the limit plus ${SETTLEMENT_TOLERANCE_SECONDS} s` }),
});

export function settlementView(s: SettlementRecord): Static<typeof SettlementSchema> {
  const { answeredSeconds, dialStatus, outcome, reported, clamped } = s;
  return { at: iso(s.at), answeredSeconds, dialStatus, outcome, cost: money(s.costMicros), reported, clamped };
}

/** A dry-run decision: what `dialguard check --json` prints. */
export const SimulatedDecisionSchema = Type.Object({
  result: Type.Union([Type.Literal('ALLOW'), Type.Literal('DENY')]),
  reason: Type.String(),
  message: Type.String(),
  limitMs: Type.Integer(),
  e164: Nullable(Type.String()),
  country: Nullable(Type.String()),
  numberType: Nullable(Type.String()),
  source: Type.Object({ ip: Nullable(Type.String()), country: Nullable(Type.String()) }),
  policyVersion: Type.Integer(),
  reservation: Nullable(
    Type.Object({ seconds: Type.Integer(), cost: Money, ratePrefix: Type.String() }, { description: 'what an authorisation would reserve' }),
  ),
  checks: Type.Array(CheckOutcomeSchema),
});

export function simulatedDecisionView(d: Decision): Static<typeof SimulatedDecisionSchema> {
  const { result, reason, message, limitMs, e164, country, numberType, source, checks, grant, policyVersion } = d;
  const reservation = grant ? { seconds: grant.seconds, cost: money(grant.costMicros), ratePrefix: grant.rate.prefix } : null;
  return { result, reason, message, limitMs, e164, country, numberType, source, policyVersion, reservation, checks };
}
