import { compileNetworks, networkOf, parseNetwork, type Address, type Network, type NetworkList } from '../net/address.js';

/** Two networks share at least one address: one of them holds the other. */
export function overlaps(a: Network, b: Network): boolean {
  if (a.family === 4 && b.family === 4) {
    const bits = Math.min(a.bits, b.bits);
    return networkOf({ family: 4, value: a.base }, bits).base === networkOf({ family: 4, value: b.base }, bits).base;
  }
  if (a.family === 6 && b.family === 6) {
    const bits = Math.min(a.bits, b.bits);
    return networkOf({ family: 6, value: a.base }, bits).base === networkOf({ family: 6, value: b.base }, bits).base;
  }
  return false;
}

/** The policy's trusted networks, compiled; the policy validator refuses a text that is not a network, so none is skipped in service. */
export interface TrustedNetworks {
  readonly networks: readonly Network[];
  readonly list: NetworkList<true>;
  holds(address: Address): boolean;
  overlaps(network: Network): boolean;
}

export function trustedNetworks(cidrs: readonly string[]): TrustedNetworks {
  const networks = cidrs.map(parseNetwork).filter((n): n is Network => n !== null);
  const list = compileNetworks(networks.map((n) => [n, true] as const));
  return {
    networks,
    list,
    holds: (address) => list.match(address) !== undefined,
    overlaps: (network) => networks.some((t) => overlaps(t, network)),
  };
}
