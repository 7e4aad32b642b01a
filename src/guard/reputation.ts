import type { SourceReputation, SourceStanding } from '../domain/security.js';
import { formatNetwork, parseAddress, sourceRange } from '../net/address.js';

/**
 * The reputation of a guard fed no security events: every source has no failure. `serve`
 * without AMI or a security log decides as before; the source reputation check passes.
 */
export const UNKNOWN_REPUTATION: SourceReputation = {
  standing(address): SourceStanding {
    const parsed = parseAddress(address);
    return { address, failures: 0, network: parsed === null ? address : formatNetwork(sourceRange(parsed)), networkFailures: 0 };
  },
};
