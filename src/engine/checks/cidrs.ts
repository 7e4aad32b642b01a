import { ValidationError, type FieldProblem } from '../../errors.js';
import { compileNetworks, parseNetwork, type Network, type NetworkList } from '../../net/address.js';

/** A policy's list of networks compiled; a match gives the entry as the admin wrote it, for the audit's detail. */
export function compileCidrs(cidrs: readonly string[], field: string): NetworkList<string> {
  const networks: Array<[Network, string]> = [];
  const problems: FieldProblem[] = [];
  for (const [i, text] of cidrs.entries()) {
    const network = parseNetwork(text);
    if (network === null) problems.push({ field: `${field}/${i}`, message: `not an IP address or CIDR: ${JSON.stringify(text)}` });
    else networks.push([network, text]);
  }
  if (problems.length > 0) throw new ValidationError(problems);
  return compileNetworks(networks);
}
