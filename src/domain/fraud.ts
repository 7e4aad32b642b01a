import type { CircuitBreakerState, VelocityCounts } from './usage.js';
import type { CheckName, PolicyMode } from './decision.js';

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
  check: CheckName;
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
