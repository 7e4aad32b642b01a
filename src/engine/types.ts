import type { EffectivePolicy } from '../policy/schema.js';
import type { PricedRate } from '../rates/rate-table.js';

export type Result = 'ALLOW' | 'DENY';

/** Stable reason codes, fixed by the design contract; outside tools match on them. */
export const REASON_CODES = [
  'allowed',
  'emergency',
  'extension_unknown',
  'extension_disabled',
  'extension_locked',
  'number_invalid',
  'destination_country_denied',
  'destination_type_denied',
  'destination_high_risk',
  'destination_prefix_blocked',
  'outside_schedule',
  'source_not_allowed',
  'source_country_denied',
  'source_unknown',
  'voicemail_callout_denied',
  'budget_concurrency',
  'budget_daily_spend',
  'budget_monthly_spend',
  'budget_daily_minutes',
  'velocity_exceeded',
  'guard_error',
] as const;
export type ReasonCode = (typeof REASON_CODES)[number];

export type CheckName =
  | 'emergency'
  | 'extension'
  | 'number'
  | 'destination'
  | 'voicemail'
  | 'schedule'
  | 'geofence'
  | 'budget'
  | 'velocity'
  | 'novelty'
  | 'circuit_breaker';

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

/** A dialled number after the home country's dialling rules were applied. */
export interface NormalizedNumber {
  /** Digits after the access prefix was stripped. */
  digits: string;
  e164: string | null;
  /** ISO 3166 alpha-2, null for international networks (+870, +881…) or unknown. */
  country: string | null;
  /** libphonenumber-js type (FIXED_LINE, MOBILE, PREMIUM_RATE…), or SATELLITE / INTERNATIONAL_NETWORK, or UNKNOWN. */
  type: NumberType | null;
  valid: boolean;
  international: boolean;
}

export const NUMBER_TYPES = [
  'FIXED_LINE',
  'MOBILE',
  'FIXED_LINE_OR_MOBILE',
  'TOLL_FREE',
  'PREMIUM_RATE',
  'SHARED_COST',
  'VOIP',
  'PERSONAL_NUMBER',
  'PAGER',
  'UAN',
  'VOICEMAIL',
  'SATELLITE',
  'INTERNATIONAL_NETWORK',
  'UNKNOWN',
] as const;
export type NumberType = (typeof NUMBER_TYPES)[number];

export interface SourceInfo {
  /** Normalised address (IPv4-mapped IPv6 turned into IPv4), null when empty or unparsable. */
  ip: string | null;
  country: string | null;
}

/** Per-extension usage, read in the same transaction that reserves. */
export interface UsageSnapshot {
  activeCalls: number;
  /** Settled cost plus reserved cost of active and expired reservations, in micro-units of the currency. */
  spentTodayMicros: number;
  spentMonthMicros: number;
  /** Answered seconds plus reserved seconds, today. */
  secondsToday: number;
  /** The extension's velocity counters; absent when they were not read (the velocity checks then skip). */
  velocity?: VelocityCounts;
  /** The site circuit breaker; read for international calls only. */
  breaker?: CircuitBreakerState;
}

/**
 * Sliding-window counters of one extension, read in the transaction that decides. None of them
 * includes the attempt being decided: the checks add its effect, so that a limit holds exactly.
 * Each count is read only up to its limit (nothing beyond it changes a decision).
 */
export interface VelocityCounts {
  /** Calls placed (allowed) in the last 60 s. */
  placedLastMinute: number;
  /** International calls placed in the last hour. */
  internationalLastHour: number;
  /** Distinct destinations of the calls placed in the last hour. */
  destinationsLastHour: number;
  /** The destination being decided is one of them. */
  destinationInLastHour: boolean;
  /** Attempts denied by a policy check (number, destination, voicemail, schedule, geofence) in the last hour. */
  deniedLastHour: number;
  /** Countries called for the first time in `noveltyDays`, in the last hour. */
  newCountriesLastHour: number;
  /** The destination's country was called within `noveltyDays` (always true for domestic calls). */
  countryKnown: boolean;
}

/** What the store reads the velocity counters and the circuit breaker for; the engine builds it. */
export interface FraudQuery {
  /** Key of distinct destinations: the E.164 form, or the digits when there is none. */
  destination: string;
  /** Country of an international destination (novelty); null for domestic calls and networks. */
  country: string | null;
  /** Read the site circuit breaker (international calls only). */
  breaker: boolean;
  /** Novelty looks back this far, ms; null when novelty is off. */
  noveltyMs: number | null;
  /** Each counter is read up to its limit; null: not read (no limit). */
  caps: {
    placedPerMinute: number | null;
    internationalPerHour: number | null;
    destinationsPerHour: number | null;
    deniedPerHour: number | null;
    newCountriesPerHour: number | null;
  };
}

export interface FraudCounters {
  velocity: VelocityCounts;
  breaker: CircuitBreakerState | null;
}

/** The site-wide circuit breaker on international spend. */
export interface CircuitBreakerState {
  /** Open: international calls are denied for every extension until an admin resets it. */
  open: boolean;
  openedAt: number | null;
  /** International spend (reserved plus settled) allowed in any hour, micro-units; null: no limit. */
  limitMicros: number | null;
  /** International spend of the calls placed in the last hour, micro-units. */
  spentMicros: number;
}

export type PolicyMode = 'enforce' | 'shadow';

/** Counters a fraud finding may name; each is a sliding window. */
export type FraudCounter =
  | 'attemptsPerMinute'
  | 'internationalPerHour'
  | 'distinctDestinationsPerHour'
  | 'deniedPerHour'
  | 'newCountriesPerHour'
  | 'newCountry'
  | 'internationalSpendPerHour';

/** A warn threshold reached or a limit breached by one decision: each becomes an alert. */
export interface FraudFinding {
  check: 'velocity' | 'novelty' | 'circuit_breaker';
  counter: FraudCounter;
  level: 'warn' | 'breach';
  /** The count with this attempt (micro-units for spend). */
  count: number;
  /** The limit the count is measured against (micro-units for spend). */
  limit: number;
  /** The sliding window the count is over, ms. */
  windowMs: number;
  detail: string;
  /** The new country of a novelty finding. */
  country?: string;
}

/** How one attempt changes the velocity counters. */
export interface AttemptRecord {
  /** The call is placed (enforce mode: allowed; shadow mode: would have been allowed). */
  placed: boolean;
  /** A policy check (number, destination, voicemail, schedule, geofence) denied it. */
  policyDenied: boolean;
  international: boolean;
  destination: string;
  /** Country of a placed international call, for novelty. */
  country: string | null;
  /** First call to `country` in noveltyDays. */
  novelCountry: boolean;
}

/** What the fraud checks found, for the store to apply in the decision's own transaction. */
export interface FraudSignals {
  mode: PolicyMode;
  /** The destination is abroad: a reservation for it counts toward the circuit breaker. */
  international: boolean;
  /** Null when the attempt does not count (the extension may not call at all). */
  attempt: AttemptRecord | null;
  findings: FraudFinding[];
  /** Lock the extension with this reason (a breach, lockOnBreach, enforce mode). */
  lock: string | null;
  /** This decision opens the site circuit breaker. */
  tripBreaker: boolean;
  /** Every counter with this attempt's effect, and the policy's thresholds: what an alert reports. */
  counts: Record<string, number>;
  thresholds: Record<string, number | boolean | null>;
}

export const EMPTY_USAGE: UsageSnapshot = {
  activeCalls: 0,
  spentTodayMicros: 0,
  spentMonthMicros: 0,
  secondsToday: 0,
};

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

/** State of an extension that is not policy: whether it exists, its lock. */
export interface ExtensionState {
  known: boolean;
  locked: boolean;
  lockReason: string | null;
}

export interface EvaluationInput {
  request: DecisionRequest;
  policy: EffectivePolicy;
  extension: ExtensionState;
  usage: UsageSnapshot;
}

export type { EffectivePolicy };
