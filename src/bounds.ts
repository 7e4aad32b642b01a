/**
 * The largest value each number an admin or Asterisk gives dialguard may take: the policy and
 * route schemas, the CLI import and the store all read them from here (the README's table of
 * limits lists them). JSON carries numbers such as 1.797e308 that fit no budget: turned into
 * micro-units they become Infinity, and an infinite price or budget breaks every sum after it.
 *
 * The money bounds are sized so that the rate arithmetic (src/rates/rate-table.ts) stays exact
 * in integer micro-units: 60 × the largest budget, and the longest billed call × the dearest
 * rate, are below 2^53.
 */

/** Budgets (dailySpend, monthlySpend) and the circuit breaker's hourly limit, in currency units. */
export const MAX_AMOUNT = 100_000_000;

/** A rate's price per minute, in currency units. */
export const MAX_RATE_PER_MINUTE = 100_000;

/** maxCallSeconds and minCallSeconds: a day. */
export const MAX_CALL_SECONDS = 86_400;

/** A rate's billing increment and first billed interval, in seconds: an hour. */
export const MAX_BILLING_SECONDS = 3_600;

/** maxConcurrent. */
export const MAX_CONCURRENT_CALLS = 10_000;

/** dailyMinutes: every call maxConcurrent allows, all day long. */
export const MAX_DAILY_MINUTES = MAX_CONCURRENT_CALLS * 24 * 60;

/** The velocity counters' limits (calls, numbers, countries in a sliding window). */
export const MAX_WINDOW_COUNT = 100_000;

/** velocity.noveltyDays. */
export const MAX_NOVELTY_DAYS = 365;

/** intrusion.windowHours: a week of a source's failed authentications, which the reputation tracker keeps in memory. */
export const MAX_INTRUSION_WINDOW_HOURS = 168;
/** spread.windowHours: a day, well inside the shortest audit retention, which keeps the reservations it counts. */
export const MAX_SPREAD_WINDOW_HOURS = 24;

/**
 * How much longer than its granted limit a settled call may be reported before the settlement
 * is clamped to the limit: L() cuts a call a few milliseconds late (6.004 s for 6 s) and
 * signalling adds a little more, well under 2 s.
 */
export const SETTLEMENT_TOLERANCE_SECONDS = 2;

/**
 * Nesting of a request body or an imported document. A policy document is 7 levels deep at most
 * (/extensions/1001/schedule/windows/0/days/0); validating and merging recurse once per level.
 */
export const MAX_JSON_DEPTH = 32;

/** No policy field admits more than this: the store refuses to write a policy number above it. */
export const MAX_POLICY_NUMBER = Math.max(
  MAX_AMOUNT,
  MAX_RATE_PER_MINUTE,
  MAX_CALL_SECONDS,
  MAX_BILLING_SECONDS,
  MAX_CONCURRENT_CALLS,
  MAX_DAILY_MINUTES,
  MAX_WINDOW_COUNT,
  MAX_NOVELTY_DAYS,
  MAX_INTRUSION_WINDOW_HOURS,
  MAX_SPREAD_WINDOW_HOURS,
);
