import { Type, type Static } from '@sinclair/typebox';
import { MAX_INTRUSION_WINDOW_HOURS, MAX_WINDOW_COUNT } from '../../bounds.js';
import { HOUR_MS } from '../../domain/windows.js';
import { parseAddress } from '../../net/address.js';
import { asObject, cidrProblem, listProblems, pointer } from '../../policy/fields.js';
import { Strings } from '../../policy/section-types.js';
import { defineCheck, fail, pass, skip, type Check } from './check.js';
import { compileCidrs } from './cidrs.js';

declare module '../../domain/decision.js' {
  interface CheckNames {
    source_suspicious: true;
  }
  interface ReasonCodes {
    source_suspicious: true;
  }
}

export const IntrusionSchema = Type.Object(
  {
    failureThreshold: Type.Integer({
      minimum: 0,
      maximum: MAX_WINDOW_COUNT,
      description: 'a call whose source address, or its /24 (IPv4) or /64 (IPv6), had this many failed authentications within windowHours is denied; 0 turns the check off',
    }),
    windowHours: Type.Integer({ minimum: 1, maximum: MAX_INTRUSION_WINDOW_HOURS, description: 'how far back failed authentications count' }),
    trustedCidrs: Strings('networks never flagged, whatever their failures (an office whose phones all register from one public address)'),
    lockOnTakeover: Type.Boolean({ description: 'an account that authenticates from a flagged address is locked at once' }),
  },
  { additionalProperties: false },
);

export type Intrusion = Static<typeof IntrusionSchema>;

/**
 * Denies a call whose signalling source is attacking the PBX: the address, or the /24 or /64
 * around it (an attacker rotates addresses within a range), had at least `failureThreshold`
 * failed authentications (unknown accounts, wrong secrets) in the last `windowHours`. A source
 * inside `trustedCidrs` is never flagged: an office behind NAT registers every phone from one
 * public address, and one phone stuck on a wrong password must not lock the office out. The
 * counts are the reputation tracker's, read by the shell before the decision (ctx.standing).
 */
export function compileSourceSuspicious(intrusion: Intrusion): Check {
  const { failureThreshold: threshold, windowHours: hours } = intrusion;
  const trusted = compileCidrs(intrusion.trustedCidrs, '/intrusion/trustedCidrs');
  if (threshold === 0) return () => skip('source_suspicious', 'the source reputation check is off');
  const window = `in the last ${hours} h`;

  return (ctx) => {
    const { ip } = ctx.source;
    if (ip === null) return skip('source_suspicious', 'no source address');
    const address = parseAddress(ip);
    const network = address === null ? undefined : trusted.match(address);
    if (network !== undefined) return pass('source_suspicious', `${ip} is inside the trusted network ${network}`);
    const standing = ctx.standing;
    if (standing === null) return skip('source_suspicious', 'no reputation read');
    if (standing.failures >= threshold) {
      return fail('source_suspicious', 'source_suspicious', `${ip} had ${standing.failures} failed authentications ${window}, limit ${threshold}`);
    }
    if (standing.networkFailures >= threshold) {
      const detail = `${standing.network}, the network of ${ip}, had ${standing.networkFailures} failed authentications ${window}, limit ${threshold}`;
      return fail('source_suspicious', 'source_suspicious', detail);
    }
    return pass('source_suspicious', `${standing.failures} failed authentications from ${ip}, ${standing.networkFailures} from ${standing.network} ${window}, limit ${threshold}`);
  };
}

export const sourceSuspicious = defineCheck({
  name: 'source_suspicious',
  kind: 'policy',
  reasons: { source_suspicious: "the caller's address is attacking this PBX" },
  section: {
    key: 'intrusion',
    schema: IntrusionSchema,
    /** Ten failures in a day: a person mistyping a secret stays far below, a brute force is far above within minutes. */
    defaults: () => ({ failureThreshold: 10, windowHours: 24, trustedCidrs: [], lockOnTakeover: true }),
    problems(value, path) {
      const intrusion = asObject(value);
      if (!intrusion) return [];
      return listProblems(intrusion.trustedCidrs, pointer(path, 'trustedCidrs'), cidrProblem);
    },
  },
  form: [
    { path: '/intrusion/failureThreshold', label: 'Failed authentications that flag a source' },
    { path: '/intrusion/trustedCidrs', label: 'Trusted networks (CIDR)' },
  ],
  shellReads: ({ failureThreshold, windowHours }) => ({ reputationMs: failureThreshold === 0 ? null : windowHours * HOUR_MS }),
  compile: ({ section }) => compileSourceSuspicious(section),
});
