import type { SiteCounts, SiteQuery } from '../../domain/site.js';
import { run, statement, type Db } from './connection.js';

const S = {
  // Other extensions' overdue reservations are not expired by this transaction: expiry is a condition of the read.
  sourceActive: statement(
    'dg_site_source_active',
    `SELECT count(*) AS n FROM (SELECT 1 FROM reservations WHERE source_ip = $1 AND status = 'active' AND expires_at > $2 LIMIT $3) c`,
  ),
  // No upper bound: a call another guard placed "after" this one (its clock a little ahead) counts too, whatever order they decide in.
  spread: statement(
    'dg_site_spread',
    `SELECT
       (SELECT count(*) FROM (SELECT DISTINCT ext FROM reservations WHERE e164 = $1 AND created_at > $2 LIMIT $3) c) AS extensions,
       EXISTS (SELECT 1 FROM reservations WHERE e164 = $1 AND created_at > $2 AND ext = $4) AS includes_caller`,
  ),
};

/**
 * The site-wide counters of a decision, read from the reservations (a call placed is a call
 * reserved). Exact because the decision holds the locks of its source and destination (see
 * siteLockKeys in lock-keys.ts): a guard deciding for the same source or number waits for this commit.
 */
export const siteCounters = {
  async read(db: Db, ext: string, at: number, query: SiteQuery): Promise<SiteCounts> {
    const [source, spread] = await Promise.all([
      query.source ? run<{ n: number }>(db, S.sourceActive, [query.source.ip, at, query.source.cap]) : null,
      query.spread ? run<{ extensions: number; includes_caller: boolean }>(db, S.spread, [query.spread.e164, at - query.spread.windowMs, query.spread.cap, ext]) : null,
    ]);
    const counts: SiteCounts = {};
    if (source) counts.sourceActiveCalls = source[0]?.n ?? 0;
    if (spread) counts.spread = { extensions: spread[0]?.extensions ?? 0, includesCaller: spread[0]?.includes_caller ?? false };
    return counts;
  },
};
