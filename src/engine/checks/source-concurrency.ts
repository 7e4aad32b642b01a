import type { Policy } from '../../policy/schema.js';
import type { CheckOutcome } from '../../domain/decision.js';
import type { SiteQuery } from '../../domain/site.js';
import { fail, pass, skip, type CheckContext } from './check.js';

export interface SourceConcurrencyCheck {
  /** What the store reads for a call from `ip` (the request's source without its port); null: nothing. */
  query(ip: string | null): SiteQuery['source'];
  check(ctx: CheckContext): CheckOutcome;
}

/**
 * Calls in progress from one signalling source address, across every extension: an attacker
 * with several stolen accounts uses them from one box, each account within its own budget. A
 * call that would be one more than `maxConcurrentPerSource` is denied; 0 turns the check off.
 * An office behind NAT is one address for all its phones: its extensions carry a higher limit.
 */
export function compileSourceConcurrency(sources: Policy['sources']): SourceConcurrencyCheck {
  const limit = sources.maxConcurrentPerSource;
  return {
    query: (ip) => (limit === 0 || ip === null ? null : { ip, cap: limit }),
    check(ctx) {
      if (limit === 0) return skip('source_concurrency', 'no limit on calls per source address');
      if (ctx.source.ip === null) return skip('source_concurrency', 'no source address');
      const active = ctx.usage.site?.sourceActiveCalls;
      if (active === undefined) return skip('source_concurrency', 'not counted');
      if (active + 1 > limit) {
        return fail('source_concurrency', 'source_concurrency', `${active} calls in progress from ${ctx.source.ip} across extensions, limit ${limit}`);
      }
      return pass('source_concurrency', `${active + 1}/${limit} calls at once from ${ctx.source.ip}`);
    },
  };
}
