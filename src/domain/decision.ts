import type { FraudSignals } from './fraud.js';
import type { NumberType } from './number.js';
import type { PricedRate } from './rate.js';

export type Result = 'ALLOW' | 'DENY';

/**
 * The reason codes, fixed by the design contract (outside tools match on them), one key each.
 * The engine's own are here; each check declares its name and its codes in its own module
 * (`declare module` on these interfaces), and the check registry fails to compile when a
 * declared name has no registered module: adding a check touches no list here.
 */
export interface ReasonCodes {
  allowed: true;
  guard_error: true;
}
export type ReasonCode = keyof ReasonCodes & string;

/** The checks' names, declared by the check modules (see ReasonCodes). */
export interface CheckNames {}
export type CheckName = keyof CheckNames & string;

export interface CheckOutcome {
  name: CheckName;
  outcome: 'pass' | 'fail' | 'skip';
  /** Set when outcome is 'fail'. */
  reason?: ReasonCode;
  detail: string;
  /** A 'pass' that crossed a warn threshold (velocity, novelty): the call goes on and an alert is raised. */
  warn?: boolean;
}

export type Origin = 'phone' | 'voicemail' | (string & {});

/** What a transport knows about one call attempt. */
export interface DecisionRequest {
  extension: string;
  /** Digits as dialled, access prefix included. */
  dialled: string;
  /** `ip:port`, `[v6]:port`, a bare address, or empty. */
  source: string;
  origin: Origin;
  /** When the call is placed. */
  at: Date;
  transport: 'agi' | 'ari' | 'cli' | 'http';
  /** Channel, uniqueid, context… kept in the audit as given. */
  meta?: Record<string, string>;
}

export interface SourceInfo {
  /** Normalised address (IPv4-mapped IPv6 turned into IPv4), null when empty or unparsable. */
  ip: string | null;
  country: string | null;
}

export type PolicyMode = 'enforce' | 'shadow';

/** What the budget check grants on an ALLOW; the store reserves exactly this. */
export interface Grant {
  seconds: number;
  costMicros: number;
  /** The rate it was priced at; settlement prices the real duration with the same one. */
  rate: PricedRate;
}

export interface Decision {
  result: Result;
  reason: ReasonCode;
  message: string;
  limitMs: number;
  e164: string | null;
  country: string | null;
  numberType: NumberType | null;
  source: SourceInfo;
  checks: CheckOutcome[];
  grant: Grant | null;
  policyVersion: number;
  /** Set in shadow mode only: the call is allowed whatever the checks say. */
  mode?: PolicyMode;
  /** Shadow mode: enforce mode would have denied the call… */
  wouldDeny?: boolean;
  /** …with this reason (`allowed` when it would not). */
  wouldReason?: ReasonCode;
  /** For the store: counters to update, alerts to raise, a lock or the circuit breaker to apply. */
  fraud?: FraudSignals;
}
