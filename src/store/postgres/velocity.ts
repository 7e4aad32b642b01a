import type { AttemptRecord, FraudQuery } from '../../domain/fraud.js';
import type { VelocityCounts } from '../../domain/usage.js';
import { LONGEST_WINDOW_MS, MINUTE_MS, WINDOW_MS } from '../../domain/windows.js';
import { run, statement, type Db } from './connection.js';

/** Rows are dropped a little after they leave the longest window: a guard whose clock is slightly behind another's still finds its whole window. */
export const KEEP_MS = LONGEST_WINDOW_MS + MINUTE_MS;
/** After every PRUNE_EVERY-th attempt a guard records, up to PRUNE_BATCH old rows are dropped: twice as fast as they come. */
const PRUNE_EVERY = 16;
const PRUNE_BATCH = 32;

const KIND_DOMESTIC = 1;
const KIND_INTERNATIONAL = 2;
const KIND_DENIED = 3;

interface CountRow {
  placed: number;
  international: number;
  denied: number;
  destinations: number;
  new_countries: number;
  last_call: number | null;
  last_to_country: number | null;
}

const capped = (from: string, cap: string): string => `(SELECT count(*) FROM (SELECT 1 FROM ${from} LIMIT ${cap}) c)`;

const S = {
  // Every counter in one statement, each a range read on an index stopped at its limit (a cap of 0 reads nothing).
  counts: statement(
    'dg_velocity_counts',
    `SELECT
       ${capped(`velocity_attempts WHERE ext = $1 AND kind IN (${KIND_DOMESTIC}, ${KIND_INTERNATIONAL}) AND at > $3 AND at <= $2`, '$10')} AS placed,
       ${capped(`velocity_attempts WHERE ext = $1 AND kind = ${KIND_INTERNATIONAL} AND at > $4 AND at <= $2`, '$11')} AS international,
       ${capped(`velocity_attempts WHERE ext = $1 AND kind = ${KIND_DENIED} AND at > $5 AND at <= $2`, '$12')} AS denied,
       ${capped('velocity_destinations WHERE ext = $1 AND last_at > $6', '$13')} AS destinations,
       ${capped('velocity_countries WHERE ext = $1 AND novel_at > $7', '$14')} AS new_countries,
       (SELECT last_at FROM velocity_destinations WHERE ext = $1 AND destination = $8) AS last_call,
       (SELECT last_at FROM velocity_countries WHERE ext = $1 AND country = $9) AS last_to_country`,
  ),
  placed: statement(
    'dg_velocity_placed',
    `WITH a AS (INSERT INTO velocity_attempts (ext, at, kind) VALUES ($1, $2, $3)),
     d AS (
       INSERT INTO velocity_destinations AS v (ext, destination, last_at) VALUES ($1, $4, $2)
       ON CONFLICT (ext, destination) DO UPDATE SET last_at = GREATEST(v.last_at, excluded.last_at)
     ),
     c AS (
       INSERT INTO velocity_countries AS v (ext, country, last_at, novel_at) SELECT $1::text, $5::text, $2::bigint, $6::bigint WHERE $5::text IS NOT NULL
       ON CONFLICT (ext, country) DO UPDATE SET last_at = GREATEST(v.last_at, excluded.last_at), novel_at = coalesce(excluded.novel_at, v.novel_at)
     )
     SELECT 1`,
  ),
  denied: statement('dg_velocity_denied', `INSERT INTO velocity_attempts (ext, at, kind) VALUES ($1, $2, ${KIND_DENIED})`),
  // Oldest rows first by id (ids grow with time); rows another guard is pruning are skipped, never waited for.
  pruneAttempts: statement(
    'dg_velocity_prune',
    `DELETE FROM velocity_attempts WHERE id IN (
       SELECT id FROM velocity_attempts WHERE at <= $1 ORDER BY id LIMIT ${PRUNE_BATCH} FOR UPDATE SKIP LOCKED
     )`,
  ),
  pruneDestinations: statement('dg_velocity_prune_destinations', `DELETE FROM velocity_destinations WHERE ext = $1 AND last_at <= $2`),
  reset: statement(
    'dg_velocity_reset',
    `WITH a AS (DELETE FROM velocity_attempts WHERE ext = $1), d AS (DELETE FROM velocity_destinations WHERE ext = $1)
     UPDATE velocity_countries SET novel_at = NULL WHERE ext = $1 AND novel_at IS NOT NULL`,
  ),
};

let recorded = 0;

/**
 * The velocity counters of the fraud checks, as in the SQLite store: windows slide to the
 * millisecond (a count is the rows in (at - window, at]), each count is read only up to its
 * limit. Every method runs inside the caller's transaction, under the extension's lock.
 */
export const velocity = {
  /** The counters before the attempt at `at`; none includes it. */
  async counts(db: Db, ext: string, at: number, query: FraudQuery): Promise<VelocityCounts> {
    const { caps } = query;
    const destinationsSince = at - WINDOW_MS.distinctDestinationsPerHour;
    const [row] = (await run<CountRow>(db, S.counts, [
      ext,
      at,
      at - WINDOW_MS.attemptsPerMinute,
      at - WINDOW_MS.internationalPerHour,
      at - WINDOW_MS.deniedPerHour,
      destinationsSince,
      at - WINDOW_MS.newCountriesPerHour,
      query.destination,
      query.noveltyMs === null ? null : query.country,
      caps.placedPerMinute ?? 0,
      caps.internationalPerHour ?? 0,
      caps.deniedPerHour ?? 0,
      caps.destinationsPerHour ?? 0,
      query.noveltyMs === null ? 0 : (caps.newCountriesPerHour ?? 0),
    ])) as [CountRow];
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

  /** The statements that record the attempt, sent at once (nothing waits for their answers). */
  record(db: Db, ext: string, at: number, attempt: AttemptRecord): Array<Promise<unknown>> {
    const sent: Array<Promise<unknown>> = [];
    if (attempt.placed) {
      sent.push(run(db, S.placed, [ext, at, attempt.international ? KIND_INTERNATIONAL : KIND_DOMESTIC, attempt.destination, attempt.country, attempt.novelCountry ? at : null]));
    } else if (attempt.policyDenied) {
      sent.push(run(db, S.denied, [ext, at]));
    } else {
      return sent;
    }
    // Each guard prunes after every PRUNE_EVERY-th attempt it records: together, twice as fast as rows come.
    if (++recorded % PRUNE_EVERY === 0) {
      sent.push(run(db, S.pruneAttempts, [at - KEEP_MS]));
      if (attempt.placed) sent.push(run(db, S.pruneDestinations, [ext, at - KEEP_MS]));
    }
    return sent;
  },

  /** Forgets the extension's counters (not its countries' history): its next call must not trip on the counts that locked it. */
  async reset(db: Db, ext: string): Promise<void> {
    await run(db, S.reset, [ext]);
  },
};
