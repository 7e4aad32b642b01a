/**
 * The sliding windows of the fraud checks, defined once: the engine compares counts over them
 * and every store counts rows over them. A count over a window of `w` at time `at` is the rows
 * in (at - w, at].
 */
export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** The window of each fraud counter but `newCountry`, whose window is the policy's noveltyDays. */
export const WINDOW_MS = {
  attemptsPerMinute: MINUTE_MS,
  internationalPerHour: HOUR_MS,
  distinctDestinationsPerHour: HOUR_MS,
  deniedPerHour: HOUR_MS,
  newCountriesPerHour: HOUR_MS,
  internationalSpendPerHour: HOUR_MS,
} as const;

/** The longest fixed window: a store may drop velocity rows older than this (plus slack for clocks). */
export const LONGEST_WINDOW_MS = Math.max(...Object.values(WINDOW_MS));
