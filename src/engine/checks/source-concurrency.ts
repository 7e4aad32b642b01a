import type { Policy } from '../../policy/schema.js';
import type { CheckOutcome } from '../../domain/decision.js';
import type { SiteQuery } from '../../domain/site.js';
import { parseAddress } from '../../net/address.js';
import { compileCidrList } from './geofence.js';
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
 * Addresses inside `exemptCidrs` are not limited: one that carries many calls by design (the
 * PBX, an SBC, an office's NAT) would otherwise stop every phone behind it.
 */
export function compileSourceConcurrency(sources: Policy['sources']): SourceConcurrencyCheck {
  const limit = sources.maxConcurrentPerSource;
  const exempt = compileCidrList(sources.exemptCidrs, '/sources/exemptCidrs');
  const exemptBy = (ip: string): string | undefined => {
    const address = parseAddress(ip);
    return address === null ? undefined : exempt.match(address);
  };
  return {
    query: (ip) => (limit === 0 || ip === null || exemptBy(ip) !== undefined ? null : { ip, cap: limit }),
    check(ctx) {
      const { ip } = ctx.source;
      if (limit === 0) return skip('source_concurrency', 'no limit on calls per source address');
      if (ip === null) return skip('source_concurrency', 'no source address');
      const network = exemptBy(ip);
      if (network !== undefined) return skip('source_concurrency', `${ip} is inside ${network}, not limited per source`);
      const active = ctx.usage.site?.sourceActiveCalls;
      if (active === undefined) return skip('source_concurrency', 'not counted');
      if (active + 1 > limit) return fail('source_concurrency', 'source_concurrency', `${active} calls in progress from ${ip} across extensions, limit ${limit}`);
      return pass('source_concurrency', `${active + 1}/${limit} calls at once from ${ip}`);
    },
  };
}
