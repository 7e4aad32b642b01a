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
  | 'budget';

export interface CheckOutcome {
  name: CheckName;
  outcome: 'pass' | 'fail' | 'skip';
  /** Set when outcome is 'fail'. */
  reason?: ReasonCode;
  detail: string;
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
