import { Type, type Static } from '@sinclair/typebox';
import { MAX_CONCURRENT_CALLS } from '../../bounds.js';
import type { SiteQuery } from '../../domain/site.js';
import { parseAddress } from '../../net/address.js';
import { asObject, cidrProblem, listProblems, pointer } from '../../policy/fields.js';
import { Strings } from '../../policy/section-types.js';
import { defineCheck, fail, pass, skip, type FraudCheck, type FraudCheckResult } from './check.js';
import { compileCidrs } from './cidrs.js';
import { LOCAL_NETWORKS } from './geofence.js';

declare module '../../domain/decision.js' {
  interface CheckNames {
    source_concurrency: true;
  }
  interface ReasonCodes {
    source_concurrency: true;
  }
}

export const SourcesSchema = Type.Object(
  {
    maxConcurrentPerSource: Type.Integer({
      minimum: 0,
      maximum: MAX_CONCURRENT_CALLS,
      description: 'calls at once from one signalling source address, across every extension (an office behind NAT is one address); 0 turns the check off',
    }),
    exemptCidrs: Strings('source networks whose addresses are not limited (IPv4 and IPv6 CIDR or single address): the PBX, an SBC, an office NAT'),
  },
  { additionalProperties: false },
);

type Sources = Static<typeof SourcesSchema>;

/** The networks of `exemptCidrs` compiled: the entry an address falls in, or undefined. */
function exemption(sources: Sources): (ip: string) => string | undefined {
  const exempt = compileCidrs(sources.exemptCidrs, '/sources/exemptCidrs');
  return (ip) => {
    const address = parseAddress(ip);
    return address === null ? undefined : exempt.match(address);
  };
}

/**
 * Calls in progress from one signalling source address, across every extension: an attacker
 * with several stolen accounts uses them from one box, each account within its own budget. A
 * call that would be placed as one more than `maxConcurrentPerSource` is denied; 0 turns the
 * check off. Addresses inside `exemptCidrs` are not limited: one that carries many calls by
 * design (the PBX, an SBC, an office's NAT) would otherwise stop every phone behind it.
 */
export function compileSourceConcurrency(sources: Sources): FraudCheck {
  const limit = sources.maxConcurrentPerSource;
  const exemptBy = exemption(sources);
  const result = (outcome: FraudCheckResult['outcome']): FraudCheckResult => ({ outcome, findings: [], counts: {} });
  return (ctx, facts) => {
    const { ip } = ctx.source;
    if (limit === 0) return result(skip('source_concurrency', 'no limit on calls per source address'));
    if (ip === null) return result(skip('source_concurrency', 'no source address'));
    const network = exemptBy(ip);
    if (network !== undefined) return result(skip('source_concurrency', `${ip} is inside ${network}, not limited per source`));
    const active = ctx.usage.site?.sourceActiveCalls;
    if (active === undefined) return result(skip('source_concurrency', 'not counted'));
    // Only a call that would be placed is one more in progress.
    const count = active + (facts.wouldPlace ? 1 : 0);
    if (facts.wouldPlace && count > limit) {
      return result(fail('source_concurrency', 'source_concurrency', `${active} calls in progress from ${ip} across extensions, limit ${limit}`));
    }
    return result(pass('source_concurrency', `${count}/${limit} calls at once from ${ip}`));
  };
}

export const sourceConcurrency = defineCheck({
  name: 'source_concurrency',
  kind: 'fraud',
  reasons: { source_concurrency: 'too many calls at once from this network address' },
  section: {
    key: 'sources',
    schema: SourcesSchema,
    /**
     * Ten calls at once from one address is an office, not a phone. The PBX's own networks are
     * exempt: a LAN address that carries many calls is the PBX, an SBC or a NAT router.
     */
    defaults: () => ({ maxConcurrentPerSource: 10, exemptCidrs: [...LOCAL_NETWORKS] }),
    problems(value, path) {
      return listProblems(asObject(value)?.exemptCidrs, pointer(path, 'exemptCidrs'), cidrProblem);
    },
  },
  form: [
    { path: '/sources/maxConcurrentPerSource', label: 'Calls at once per source address' },
    { path: '/sources/exemptCidrs', label: 'Networks not limited per source (CIDR)' },
  ],
  storeReads: (sources) => {
    const exemptBy = exemption(sources);
    const limit = sources.maxConcurrentPerSource;
    return {
      site: ({ ip }): Partial<SiteQuery> => ({ source: limit === 0 || ip === null || exemptBy(ip) !== undefined ? null : { ip, cap: limit } }),
    };
  },
  compile: ({ section }) => ({ evaluate: compileSourceConcurrency(section), locksOnBreach: false }),
});
