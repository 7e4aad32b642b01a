import type { Database } from 'better-sqlite3';
import type { SiteCounts, SiteQuery } from '../../domain/site.js';

interface SpreadRow {
  extensions: number;
  includes_caller: number;
}

/**
 * The site-wide counters of a decision, read from the reservations (a call placed is a call
 * reserved) in the decision's BEGIN IMMEDIATE transaction: SQLite's one writer makes them exact
 * across extensions and guard processes. Each read is an index range stopped at its cap.
 */
export function createSiteCounters(db: Database) {
  const s = {
    // Other extensions' overdue reservations are not expired yet by this transaction: expiry is a condition of the read.
    sourceActive: db
      .prepare<[string, number, number], number>(
        `SELECT COUNT(*) FROM (SELECT 1 FROM reservations WHERE source_ip = ? AND status = 'active' AND expires_at > ? LIMIT ?)`,
      )
      .pluck(),
    // No upper bound: a call another guard placed "after" this one (its clock a little ahead) counts too.
    spread: db.prepare<{ e164: string; since: number; cap: number; ext: string }, SpreadRow>(
      `SELECT
         (SELECT COUNT(*) FROM (SELECT DISTINCT ext FROM reservations WHERE e164 = @e164 AND created_at > @since LIMIT @cap)) AS extensions,
         EXISTS (SELECT 1 FROM reservations WHERE e164 = @e164 AND created_at > @since AND ext = @ext) AS includes_caller`,
    ),
  };

  return {
    /** The counters `query` asks for, before the attempt of `ext` at `at`. */
    read(ext: string, at: number, query: SiteQuery): SiteCounts {
      const counts: SiteCounts = {};
      if (query.source) counts.sourceActiveCalls = s.sourceActive.get(query.source.ip, at, query.source.cap) ?? 0;
      if (query.spread) {
        const { e164, windowMs, cap } = query.spread;
        const row = s.spread.get({ e164, since: at - windowMs, cap, ext }) as SpreadRow;
        counts.spread = { extensions: row.extensions, includesCaller: row.includes_caller === 1 };
      }
      return counts;
    },
  };
}

export type SiteCounters = ReturnType<typeof createSiteCounters>;
