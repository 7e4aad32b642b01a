import type { SiteCounts } from './site.js';

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
  /** The site-wide counters the fraud query's `site` asked for. */
  site?: SiteCounts;
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

export const EMPTY_USAGE: UsageSnapshot = {
  activeCalls: 0,
  spentTodayMicros: 0,
  spentMonthMicros: 0,
  secondsToday: 0,
};
