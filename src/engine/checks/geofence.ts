import { ValidationError, type FieldProblem } from '../../errors.js';
import type { GeoIp } from '../../geo/geoip.js';
import { parseSource } from '../../geo/source.js';
import { compileNetworks, parseAddress, parseNetwork, type Network, type NetworkList } from '../../net/address.js';
import type { Policy } from '../../policy/schema.js';
import type { SourceInfo } from '../../domain/decision.js';
import { fail, pass, type Check } from './check.js';

type Geofence = Policy['geofence'];

/** The source of one request, resolved once by the engine: every check and the audit share it. */
export function resolveSource(source: string, geoip: GeoIp): SourceInfo {
  const ip = parseSource(source);
  return { ip, country: ip === null ? null : geoip.country(ip) };
}

/** A policy's list of networks (at JSON pointer `field`) compiled; a match gives the entry as the admin wrote it, for the audit's detail. */
export function compileCidrList(cidrs: readonly string[], field: string): NetworkList<string> {
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

/**
 * Where the call's signalling comes from. A source inside `allowCidrs` passes; otherwise its
 * GeoIP country must be in `allowCountries`, where `*` admits every parsable source, including
 * private addresses that have no country. Without a parsable source, `unknownSource` decides.
 */
export function compileGeofence(geofence: Geofence): Check {
  const networks = compileCidrList(geofence.allowCidrs, '/geofence/allowCidrs');
  const anyCountry = geofence.allowCountries.includes('*');
  const countries = new Set(geofence.allowCountries.map((c) => c.toUpperCase()));
  const unknownAllowed = geofence.unknownSource === 'allow';

  return (ctx) => {
    const { ip, country } = ctx.source;
    if (ip === null) {
      const raw = ctx.request.source.trim();
      const what = raw === '' ? 'no source address' : `unparsable source address ${JSON.stringify(raw.slice(0, 64))}`;
      return unknownAllowed
        ? pass('geofence', `${what}; unknown sources are allowed`)
        : fail('geofence', 'source_unknown', `${what}; unknown sources are denied`);
    }
    const address = parseAddress(ip);
    const network = address === null ? undefined : networks.match(address);
    if (network !== undefined) return pass('geofence', `${ip} is inside ${network}`);
    const where = country ?? 'no known country';
    if (anyCountry) return pass('geofence', `${ip} (${where}) is allowed: any country`);
    if (country === null) return fail('geofence', 'source_not_allowed', `${ip} has no known country and is outside every allowed network`);
    if (countries.has(country)) return pass('geofence', `${ip} is in ${country}, an allowed country`);
    return fail('geofence', 'source_country_denied', `${ip} is in ${country}, not an allowed source country`);
  };
}
