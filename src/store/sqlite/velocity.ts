import type { Database } from 'better-sqlite3';
import { LONGEST_WINDOW_MS, MINUTE_MS, WINDOW_MS } from '../../domain/windows.js';
import type { AttemptRecord, FraudQuery } from '../../domain/fraud.js';
import type { VelocityCounts } from '../../domain/usage.js';

/**
 * Rows are dropped a little after they leave the longest window, so that a request whose clock
 * is slightly behind another guard process's still finds every row of its own window.
 */
export const KEEP_MS = LONGEST_WINDOW_MS + MINUTE_MS;
/** Every PRUNE_EVERY-th row added, up to PRUNE_BATCH old rows are dropped: twice as fast as they come, so the table keeps to an hour. */
const PRUNE_EVERY = 16;
const PRUNE_BATCH = 32;

interface CountParams {
  ext: string;
  at: number;
  /** Each counter's window starts after this time (exclusive). */
  placedSince: number;
  internationalSince: number;
  deniedSince: number;
  destinationsSince: number;
  newCountriesSince: number;
  destination: string;
  country: string | null;
  placed: number;
  international: number;
  denied: number;
  destinations: number;
  newCountries: number;
}

interface CountRow {
  placed: number;
  international: number;
  denied: number;
  destinations: number;
  new_countries: number;
  last_call: number | null;
  last_to_country: number | null;
}

const KIND_DOMESTIC = 1;
const KIND_INTERNATIONAL = 2;
const KIND_DENIED = 3;

/**
 * The velocity counters of the fraud checks. Each count is a range read on an index (ext,
 * kind, time), stopped at the limit it is compared with: the cost of a decision depends on the
 * limits, never on how many calls are on record. Windows slide to the millisecond: a count is
 * the rows in (at - window, at], so there is no fixed bucket whose reset an attack could straddle.
 * Distinct numbers and new countries keep each key's latest call only, so they assume requests
 * come in time order (they do: a request's time is its arrival; guard processes share a clock).
 * Every method runs inside the caller's transaction.
 */
export function createVelocityRepository(db: Database) {
  const capped = (from: string, cap: string): string => `(SELECT COUNT(*) FROM (SELECT 1 FROM ${from} LIMIT @${cap}))`;
  const s = {
    // Every counter in one statement (one call into SQLite, not seven); a cap of 0 reads nothing.
    counts: db.prepare<[CountParams], CountRow>(
      `SELECT
         ${capped(`velocity_attempts WHERE ext = @ext AND kind IN (${KIND_DOMESTIC}, ${KIND_INTERNATIONAL}) AND at > @placedSince AND at <= @at`, 'placed')} AS placed,
         ${capped(`velocity_attempts WHERE ext = @ext AND kind = ${KIND_INTERNATIONAL} AND at > @internationalSince AND at <= @at`, 'international')} AS international,
         ${capped(`velocity_attempts WHERE ext = @ext AND kind = ${KIND_DENIED} AND at > @deniedSince AND at <= @at`, 'denied')} AS denied,
         ${capped('velocity_destinations WHERE ext = @ext AND last_at > @destinationsSince', 'destinations')} AS destinations,
         ${capped('velocity_countries WHERE ext = @ext AND novel_at > @newCountriesSince', 'newCountries')} AS new_countries,
         (SELECT last_at FROM velocity_destinations WHERE ext = @ext AND destination = @destination) AS last_call,
         (SELECT last_at FROM velocity_countries WHERE ext = @ext AND country = @country) AS last_to_country`,
    ),
    insert: db.prepare<[string, number, number]>(`INSERT INTO velocity_attempts (ext, at, kind) VALUES (?, ?, ?)`),
    touchDestination: db.prepare<[string, string, number]>(
      `INSERT INTO velocity_destinations (ext, destination, last_at) VALUES (?, ?, ?)
       ON CONFLICT (ext, destination) DO UPDATE SET last_at = max(last_at, excluded.last_at)`,
    ),
    touchCountry: db.prepare<[string, string, number, number | null]>(
      `INSERT INTO velocity_countries (ext, country, last_at, novel_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (ext, country) DO UPDATE SET last_at = max(last_at, excluded.last_at), novel_at = coalesce(excluded.novel_at, novel_at)`,
    ),
    // Oldest rows first by id (ids grow with time): a handful looked at, never a scan.
    pruneAttempts: db.prepare<[number]>(
      `DELETE FROM velocity_attempts WHERE id IN (SELECT id FROM velocity_attempts ORDER BY id LIMIT ${PRUNE_BATCH}) AND at <= ?`,
    ),
    pruneDestinations: db.prepare<[string, number]>(`DELETE FROM velocity_destinations WHERE ext = ? AND last_at <= ?`),
    resetAttempts: db.prepare<[string]>(`DELETE FROM velocity_attempts WHERE ext = ?`),
    resetDestinations: db.prepare<[string]>(`DELETE FROM velocity_destinations WHERE ext = ?`),
    resetNovelty: db.prepare<[string]>(`UPDATE velocity_countries SET novel_at = NULL WHERE ext = ? AND novel_at IS NOT NULL`),
  };

  return {
    /** The counters before the attempt at `at`; none includes it. */
    counts(ext: string, at: number, query: FraudQuery): VelocityCounts {
      const { caps } = query;
      const destinationsSince = at - WINDOW_MS.distinctDestinationsPerHour;
      const row = s.counts.get({
        ext,
        at,
        placedSince: at - WINDOW_MS.attemptsPerMinute,
        internationalSince: at - WINDOW_MS.internationalPerHour,
        deniedSince: at - WINDOW_MS.deniedPerHour,
        destinationsSince,
        newCountriesSince: at - WINDOW_MS.newCountriesPerHour,
        destination: query.destination,
        country: query.noveltyMs === null ? null : query.country,
        placed: caps.placedPerMinute ?? 0,
        international: caps.internationalPerHour ?? 0,
        denied: caps.deniedPerHour ?? 0,
        destinations: caps.destinationsPerHour ?? 0,
        newCountries: query.noveltyMs === null ? 0 : (caps.newCountriesPerHour ?? 0),
      }) as CountRow;
      return {
        placedLastMinute: row.placed,
        internationalLastHour: row.international,
        destinationsLastHour: row.destinations,
        destinationInLastHour: row.last_call !== null && row.last_call > destinationsSince,
        deniedLastHour: row.denied,
        newCountriesLastHour: row.new_countries,
        countryKnown: query.country === null || query.noveltyMs === null || (row.last_to_country !== null && row.last_to_country > at - query.noveltyMs),
      };
    },

    record(ext: string, at: number, attempt: AttemptRecord): void {
      let id: number | bigint;
      if (attempt.placed) {
        id = s.insert.run(ext, at, attempt.international ? KIND_INTERNATIONAL : KIND_DOMESTIC).lastInsertRowid;
        s.touchDestination.run(ext, attempt.destination, at);
        if (attempt.country) s.touchCountry.run(ext, attempt.country, at, attempt.novelCountry ? at : null);
      } else if (attempt.policyDenied) {
        id = s.insert.run(ext, at, KIND_DENIED).lastInsertRowid;
      } else {
        return;
      }
      if (Number(id) % PRUNE_EVERY === 0) {
        s.pruneAttempts.run(at - KEEP_MS);
        if (attempt.placed) s.pruneDestinations.run(ext, at - KEEP_MS);
      }
    },

    /**
     * Forgets the extension's counters (not its countries' history): an admin who unlocks an
     * extension has dealt with what locked it, and its next call must not trip on the same counts.
     */
    reset(ext: string): void {
      s.resetAttempts.run(ext);
      s.resetDestinations.run(ext);
      s.resetNovelty.run(ext);
    },
  };
}

export type VelocityRepository = ReturnType<typeof createVelocityRepository>;
