import type { SourceReputation, SourceStanding } from '../domain/security.js';
import { sourceRangeText } from '../net/address.js';

/**
 * The reputation of a guard fed no security events: every source has no failure. `serve`
 * without AMI or a security log decides as before; the source reputation check passes.
 */
export const UNKNOWN_REPUTATION: SourceReputation = {
  standing(address): SourceStanding {
    return { address, failures: 0, network: sourceRangeText(address), networkFailures: 0 };
  },
};
