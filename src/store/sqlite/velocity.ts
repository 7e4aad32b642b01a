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
  hourSince: number;
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

type Running = 'placed' | 'international' | 'denied';
const OWN: Record<Running, string> = { placed: `(kind <> ${KIND_DENIED})`, international: `(kind = ${KIND_INTERNATIONAL})`, denied: `(kind = ${KIND_DENIED})` };
const ORDER = 'at DESC, placed DESC, international DESC, denied DESC';

/**
 * The extension's running count `column` at `bound`: that of its latest attempt at or before it,
 * else the one before its oldest attempt kept (rows leave oldest first), else 0. One probe each;
 * the fallback (coalesce stops at the first value) only when the first finds nothing.
 */
const runningAt = (column: Running, bound: string): string =>
  `coalesce((SELECT ${column} FROM velocity_attempts WHERE ext = @ext AND at <= ${bound} ORDER BY ${ORDER} LIMIT 1),
     (SELECT ${column} - ${OWN[column]} FROM velocity_attempts WHERE ext = @ext ORDER BY at, placed, international, denied LIMIT 1), 0)`;
/** Attempts in (since, @at], at most @cap (a cap of 0 reads nothing). */
const inWindow = (column: Running, since: string, cap: string): string =>
  `CASE WHEN @${cap} = 0 THEN 0 ELSE min(${runningAt(column, '@at')} - ${runningAt(column, since)}, @${cap}) END`;

/**
 * The velocity counters of the fraud checks. Each attempt row carries the extension's running
 * counts (placed, international, denied) up to itself in time order, so a count over a window is
 * the running count at its end minus the one at its start: two probes of one index, whatever the
 * limit and however many attempts are on record. Windows slide to the millisecond: a count is the
 * rows in (at - window, at], so there is no fixed bucket whose reset an attack could straddle.
 * Distinct numbers are a count kept by triggers minus the numbers last called before the hour,
 * which the decision path deletes as they leave it (`expire`); new countries are read as a range
 * (at most one row per country). Distinct numbers and new countries keep each key's latest call
 * only, so they assume requests come in time order (they do: a request's time is its arrival;
 * guard processes share a clock). Every method runs inside the caller's transaction.
 */
export function createVelocityRepository(db: Database) {
  const s = {
    // Every counter in one statement (one call into SQLite, not seven); a cap of 0 reads nothing.
    // No bound LIMIT: SQLite prepares a statement with one again at every run. New countries are
    // a range of at most one row per country.
    counts: db.prepare<[CountParams], CountRow>(
      `SELECT
         ${inWindow('placed', '@placedSince', 'placed')} AS placed,
         ${inWindow('international', '@hourSince', 'international')} AS international,
         ${inWindow('denied', '@hourSince', 'denied')} AS denied,
         CASE WHEN @destinations = 0 THEN 0 ELSE min(
           coalesce((SELECT numbers FROM velocity_numbers WHERE ext = @ext), 0)
             - (SELECT COUNT(*) FROM velocity_destinations WHERE ext = @ext AND last_at <= @destinationsSince),
           @destinations) END AS destinations,
         CASE WHEN @newCountries = 0 THEN 0 ELSE min((SELECT COUNT(*) FROM velocity_countries WHERE ext = @ext AND novel_at > @newCountriesSince), @newCountries) END AS new_countries,
         (SELECT last_at FROM velocity_destinations WHERE ext = @ext AND destination = @destination) AS last_call,
         (SELECT last_at FROM velocity_countries WHERE ext = @ext AND country = @country) AS last_to_country`,
    ),
    // The running counts go on from the latest attempt at or before this one (or from before the
    // oldest, when this one is older than every row kept).
    insert: db.prepare<[{ ext: string; at: number; kind: number }]>(
      `INSERT INTO velocity_attempts (ext, at, kind, placed, international, denied)
       VALUES (@ext, @at, @kind, ${runningAt('placed', '@at')} + ${OWN.placed.replaceAll('kind', '@kind')},
         ${runningAt('international', '@at')} + ${OWN.international.replaceAll('kind', '@kind')}, ${runningAt('denied', '@at')} + ${OWN.denied.replaceAll('kind', '@kind')})`,
    ),
    // An attempt older than some already recorded (another process's request that waited for the
    // lock): the later rows count it too. One probe that finds nothing, nearly always.
    shiftLater: db.prepare<[{ ext: string; at: number; kind: number }]>(
      `UPDATE velocity_attempts SET placed = placed + ${OWN.placed.replaceAll('kind', '@kind')}, international = international + ${OWN.international.replaceAll('kind', '@kind')},
         denied = denied + ${OWN.denied.replaceAll('kind', '@kind')} WHERE ext = @ext AND at > @at`,
    ),
    touchDestination: db.prepare<[number, string, string]>(`UPDATE velocity_destinations SET last_at = max(last_at, ?) WHERE ext = ? AND destination = ?`),
    addDestination: db.prepare<[string, string, number]>(`INSERT INTO velocity_destinations (ext, destination, last_at) VALUES (?, ?, ?)`),
    expireDestinations: db.prepare<[string, number]>(`DELETE FROM velocity_destinations WHERE ext = ? AND last_at <= ?`),
    touchCountry: db.prepare<[string, string, number, number | null]>(
      `INSERT INTO velocity_countries (ext, country, last_at, novel_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (ext, country) DO UPDATE SET last_at = max(last_at, excluded.last_at), novel_at = coalesce(excluded.novel_at, novel_at)`,
    ),
    // Oldest rows first by id (ids grow with time): a handful looked at, never a scan.
    pruneAttempts: db.prepare<[number]>(
      `DELETE FROM velocity_attempts WHERE id IN (SELECT id FROM velocity_attempts ORDER BY id LIMIT ${PRUNE_BATCH}) AND at <= ?`,
    ),
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
        // International calls and denied attempts share the hour.
        hourSince: at - WINDOW_MS.internationalPerHour,
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

    /** Before a decision's counts: numbers last called before the hour leave the extension's count (each row once). */
    expire(ext: string, at: number): void {
      s.expireDestinations.run(ext, at - WINDOW_MS.distinctDestinationsPerHour);
    },

    record(ext: string, at: number, attempt: AttemptRecord): void {
      let kind: number;
      if (attempt.placed) kind = attempt.international ? KIND_INTERNATIONAL : KIND_DOMESTIC;
      else if (attempt.policyDenied) kind = KIND_DENIED;
      else return;
      const row = { ext, at, kind };
      // Inserted first: its running counts come from the rows before it as they were.
      const id = s.insert.run(row).lastInsertRowid;
      s.shiftLater.run(row);
      if (attempt.placed) {
        if (s.touchDestination.run(at, ext, attempt.destination).changes === 0) s.addDestination.run(ext, attempt.destination, at);
        if (attempt.country) s.touchCountry.run(ext, attempt.country, at, attempt.novelCountry ? at : null);
      }
      if (Number(id) % PRUNE_EVERY === 0) s.pruneAttempts.run(at - KEEP_MS);
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
