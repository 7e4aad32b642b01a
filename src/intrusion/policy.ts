import type { Guard } from '../guard/guard.js';
import type { Policy } from '../policy/schema.js';

/**
 * The policy's `intrusion` section as the tracker and the takeover lock read it. h1's engine
 * reshape puts the same section (same names, same defaults) into the policy schema with the
 * `source_suspicious` check; until that is merged the defaults below are what applies.
 */
export interface IntrusionPolicy {
  /** Failed authentications in the window from a source (or its /24, /64) that make it suspicious; 0: off. */
  failureThreshold: number;
  /** The sliding window the failures are counted over, hours. */
  windowHours: number;
  /** Networks never flagged nor locked out (an office behind NAT). */
  trustedCidrs: string[];
  /** Lock an account that authenticates from a suspicious source or from a new country. */
  lockOnTakeover: boolean;
}

/** The longest window the tracker keeps counts for, whatever the policy asks: memory stays bounded. */
export const MAX_WINDOW_MS = 7 * 24 * 3_600_000;

export const windowMsOf = (policy: IntrusionPolicy): number => Math.min(MAX_WINDOW_MS, policy.windowHours * 3_600_000);

/**
 * Which policy applies to account `ext`: the site default, merged with the extension's own
 * entry when it has one (an admin may trust a road warrior's home network for that extension
 * alone); `null`: the site default alone (the suspicious list is site-wide).
 */
export type IntrusionPolicySource = (ext: string | null) => Promise<IntrusionPolicy>;

/** The takeover lock's view of a whole policy: its `intrusion` section, and shadow mode (alert, never lock). */
export function takeoverPolicyOf(policy: Pick<Policy, 'mode' | 'intrusion'>): IntrusionPolicy & { shadow: boolean } {
  return { ...policy.intrusion, shadow: policy.mode === 'shadow' };
}

/**
 * The site default policy, merged with the account's extension entry when there is one: the
 * account that authenticated is the extension the takeover lock would lock, so its own entry
 * (a trusted home network, a stricter threshold) decides, as it decides its calls.
 */
export function guardIntrusionPolicies(guard: Pick<Guard, 'policySet' | 'effectivePolicy'>): (ext: string | null) => Promise<IntrusionPolicy & { shadow: boolean }> {
  return async (ext) => takeoverPolicyOf(ext === null ? (await guard.policySet()).defaults : await guard.effectivePolicy(ext));
}
