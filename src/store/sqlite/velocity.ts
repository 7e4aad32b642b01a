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

interface KnownCountParams extends CountParams {
  placedNow: number;
  internationalNow: number;
  deniedNow: number;
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
/**
 * Attempts in (since, @at], at most @cap (a cap of 0 reads nothing). `known`: the running counts
 * at @at are parameters (@placedNow...), those of the extension's latest attempt, when the caller
 * knows it and @at is not before it.
 */
const inWindow = (column: Running, since: string, cap: string, known: boolean): string =>
  `CASE WHEN @${cap} = 0 THEN 0 ELSE min(${known ? `@${column}Now` : runningAt(column, '@at')} - ${runningAt(column, since)}, @${cap}) END`;

/** The extension's latest attempt (in time order) and its running counts: what the next attempt goes on from. */
export interface LatestAttempt {
  at: number;
  placed: number;
  international: number;
  denied: number;
}

export interface RecordedAttempt {
  /** The extension's latest attempt after this one; undefined when not known (an attempt older than some recorded). */
  latest: LatestAttempt | undefined;
  /** Extensions whose oldest attempts were pruned: a latest attempt held for them may be gone. */
  pruned: string[];
}

// Every counter in one statement (one call into SQLite, not seven); a cap of 0 reads nothing.
// No bound LIMIT: SQLite prepares a statement with one again at every run. New countries are a
// range of at most one row per country.
const countsSql = (known: boolean): string =>
  `SELECT
     ${inWindow('placed', '@placedSince', 'placed', known)} AS placed,
     ${inWindow('international', '@hourSince', 'international', known)} AS international,
     ${inWindow('denied', '@hourSince', 'denied', known)} AS denied,
     CASE WHEN @destinations = 0 THEN 0 ELSE min(
       coalesce((SELECT numbers FROM velocity_numbers WHERE ext = @ext), 0)
         - (SELECT COUNT(*) FROM velocity_destinations WHERE ext = @ext AND last_at <= @destinationsSince),
       @destinations) END AS destinations,
     CASE WHEN @newCountries = 0 THEN 0 ELSE min((SELECT COUNT(*) FROM velocity_countries WHERE ext = @ext AND novel_at > @newCountriesSince), @newCountries) END AS new_countries,
     (SELECT last_at FROM velocity_destinations WHERE ext = @ext AND destination = @destination) AS last_call,
     (SELECT last_at FROM velocity_countries WHERE ext = @ext AND country = @country) AS last_to_country`;

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
    counts: db.prepare<[CountParams], CountRow>(countsSql(false)),
    countsFrom: db.prepare<[KnownCountParams], CountRow>(countsSql(true)),
    // The running counts go on from the latest attempt at or before this one (or from before the
    // oldest, when this one is older than every row kept).
    insert: db.prepare<[{ ext: string; at: number; kind: number }], { id: number; placed: number; international: number; denied: number }>(
      `INSERT INTO velocity_attempts (ext, at, kind, placed, international, denied)
       VALUES (@ext, @at, @kind, ${runningAt('placed', '@at')} + ${OWN.placed.replaceAll('kind', '@kind')},
         ${runningAt('international', '@at')} + ${OWN.international.replaceAll('kind', '@kind')}, ${runningAt('denied', '@at')} + ${OWN.denied.replaceAll('kind', '@kind')})
       RETURNING id, placed, international, denied`,
    ),
    // After the extension's latest attempt: its running counts are known, nothing is read.
    append: db.prepare<[string, number, number, number, number, number]>(
      `INSERT INTO velocity_attempts (ext, at, kind, placed, international, denied) VALUES (?, ?, ?, ?, ?, ?)`,
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
    oldestNumber: db.prepare<[string], number | null>(`SELECT min(last_at) FROM velocity_destinations WHERE ext = ?`).pluck(),
    touchCountry: db.prepare<[string, string, number, number | null]>(
      `INSERT INTO velocity_countries (ext, country, last_at, novel_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (ext, country) DO UPDATE SET last_at = max(last_at, excluded.last_at), novel_at = coalesce(excluded.novel_at, novel_at)`,
    ),
    // Oldest rows first by id (ids grow with time): a handful looked at, never a scan.
    pruneAttempts: db.prepare<[number], string>(
      `DELETE FROM velocity_attempts WHERE id IN (SELECT id FROM velocity_attempts ORDER BY id LIMIT ${PRUNE_BATCH}) AND at <= ? RETURNING ext`,
    ).pluck(),
    resetAttempts: db.prepare<[string]>(`DELETE FROM velocity_attempts WHERE ext = ?`),
    resetDestinations: db.prepare<[string]>(`DELETE FROM velocity_destinations WHERE ext = ?`),
    resetNovelty: db.prepare<[string]>(`UPDATE velocity_countries SET novel_at = NULL WHERE ext = ? AND novel_at IS NOT NULL`),
  };

  return {
    /** The counters before the attempt at `at`; none includes it. `latest`: the extension's latest attempt, when known. */
    counts(ext: string, at: number, query: FraudQuery, latest?: LatestAttempt): VelocityCounts {
      const { caps } = query;
      const destinationsSince = at - WINDOW_MS.distinctDestinationsPerHour;
      const params: CountParams = {
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
      };
      const row = (
        latest !== undefined && at >= latest.at
          ? s.countsFrom.get({ ...params, placedNow: latest.placed, internationalNow: latest.international, deniedNow: latest.denied })
          : s.counts.get(params)
      ) as CountRow;
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

    /**
     * Before a decision's counts: numbers last called before the hour leave the extension's count
     * (each row once). Returns when the oldest number left was last called (Infinity: none), so
     * that a caller who knows it may skip this until that call leaves the hour.
     */
    expire(ext: string, at: number): number {
      s.expireDestinations.run(ext, at - WINDOW_MS.distinctDestinationsPerHour);
      return (s.oldestNumber.get(ext) as number | null) ?? Infinity;
    },

    /** `latest`: the extension's latest attempt, when known; the result says the one after this attempt. */
    record(ext: string, at: number, attempt: AttemptRecord, latest?: LatestAttempt): RecordedAttempt {
      let kind: number;
      if (attempt.placed) kind = attempt.international ? KIND_INTERNATIONAL : KIND_DOMESTIC;
      else if (attempt.policyDenied) kind = KIND_DENIED;
      else return { latest, pruned: [] };
      const own = { placed: kind !== KIND_DENIED ? 1 : 0, international: kind === KIND_INTERNATIONAL ? 1 : 0, denied: kind === KIND_DENIED ? 1 : 0 };
      let id: number | bigint;
      let next: LatestAttempt | undefined;
      if (latest !== undefined && at >= latest.at) {
        // No attempt is later than the latest: nothing to read, nothing to shift.
        next = { at, placed: latest.placed + own.placed, international: latest.international + own.international, denied: latest.denied + own.denied };
        id = s.append.run(ext, at, kind, next.placed, next.international, next.denied).lastInsertRowid;
      } else {
        const row = { ext, at, kind };
        // Inserted first: its running counts come from the rows before it as they were.
        const inserted = s.insert.get(row) as { id: number; placed: number; international: number; denied: number };
        id = inserted.id;
        next = s.shiftLater.run(row).changes === 0 ? { at, placed: inserted.placed, international: inserted.international, denied: inserted.denied } : undefined;
      }
      if (attempt.placed) {
        if (s.touchDestination.run(at, ext, attempt.destination).changes === 0) s.addDestination.run(ext, attempt.destination, at);
        if (attempt.country) s.touchCountry.run(ext, attempt.country, at, attempt.novelCountry ? at : null);
      }
      const pruned = Number(id) % PRUNE_EVERY === 0 ? s.pruneAttempts.all(at - KEEP_MS) : [];
      return { latest: next, pruned };
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
