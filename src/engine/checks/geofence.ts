import ipaddr from 'ipaddr.js';
import { ValidationError, type FieldProblem } from '../../errors.js';
import type { GeoIp } from '../../geo/geoip.js';
import { parseSource } from '../../geo/source.js';
import type { Policy } from '../../policy/schema.js';
import type { SourceInfo } from '../../domain/decision.js';
import { fail, pass, type Check } from './check.js';

type Geofence = Policy['geofence'];

/** A network of `allowCidrs`, kept with the text the admin wrote for the audit's detail. */
interface Network {
  range: [ipaddr.IPv4, number] | [ipaddr.IPv6, number];
  text: string;
}

/** The source of one request, resolved once by the engine: every check and the audit share it. */
export function resolveSource(source: string, geoip: GeoIp): SourceInfo {
  const ip = parseSource(source);
  return { ip, country: ip === null ? null : geoip.country(ip) };
}

/**
 * A CIDR (`10.0.0.0/8`, `2001:db8::/32`) or a single address (`203.0.113.9`), as a range;
 * null when it is neither. IPv4-mapped IPv6 ranges become IPv4 ranges, because sources are
 * compared in IPv4 form. The policy validator uses this to reject what compileGeofence would.
 */
export function parseCidr(text: string): [ipaddr.IPv4, number] | [ipaddr.IPv6, number] | null {
  const value = text.trim();
  if (ipaddr.IPv4.isValidCIDRFourPartDecimal(value)) return ipaddr.IPv4.parseCIDR(value);
  if (ipaddr.IPv4.isValidFourPartDecimal(value)) return [ipaddr.IPv4.parse(value), 32];
  let v6: [ipaddr.IPv6, number];
  if (ipaddr.IPv6.isValidCIDR(value)) v6 = ipaddr.IPv6.parseCIDR(value);
  else if (ipaddr.IPv6.isValid(value)) v6 = [ipaddr.IPv6.parse(value), 128];
  else return null;
  const [address, bits] = v6;
  return address.isIPv4MappedAddress() && bits >= 96 ? [address.toIPv4Address(), bits - 96] : v6;
}

function compileNetworks(cidrs: string[]): { v4: Network[]; v6: Network[] } {
  const v4: Network[] = [];
  const v6: Network[] = [];
  const problems: FieldProblem[] = [];
  for (const [i, text] of cidrs.entries()) {
    const range = parseCidr(text);
    if (range === null) problems.push({ field: `/geofence/allowCidrs/${i}`, message: `not an IP address or CIDR: ${JSON.stringify(text)}` });
    else (range[0].kind() === 'ipv4' ? v4 : v6).push({ range, text });
  }
  if (problems.length > 0) throw new ValidationError(problems);
  return { v4, v6 };
}

/**
 * Where the call's signalling comes from. A source inside `allowCidrs` passes; otherwise its
 * GeoIP country must be in `allowCountries`, where `*` admits every parsable source, including
 * private addresses that have no country. Without a parsable source, `unknownSource` decides.
 */
export function compileGeofence(geofence: Geofence): Check {
  const { v4, v6 } = compileNetworks(geofence.allowCidrs);
  const anyCountry = geofence.allowCountries.includes('*');
  const countries = new Set(geofence.allowCountries.map((c) => c.toUpperCase()));
  const unknownAllowed = geofence.unknownSource === 'allow';

  const networkOf = (ip: string): Network | undefined => {
    const address = ipaddr.process(ip);
    // ipaddr.js refuses to match across address families, hence one list per family.
    if (address.kind() === 'ipv4') return v4.find((n) => address.match(n.range));
    return v6.find((n) => address.match(n.range));
  };

  return (ctx) => {
    const { ip, country } = ctx.source;
    if (ip === null) {
      const raw = ctx.request.source.trim();
      const what = raw === '' ? 'no source address' : `unparsable source address ${JSON.stringify(raw.slice(0, 64))}`;
      return unknownAllowed
        ? pass('geofence', `${what}; unknown sources are allowed`)
        : fail('geofence', 'source_unknown', `${what}; unknown sources are denied`);
    }
    const network = networkOf(ip);
    if (network) return pass('geofence', `${ip} is inside ${network.text}`);
    const where = country ?? 'no known country';
    if (anyCountry) return pass('geofence', `${ip} (${where}) is allowed: any country`);
    if (country === null) return fail('geofence', 'source_not_allowed', `${ip} has no known country and is outside every allowed network`);
    if (countries.has(country)) return pass('geofence', `${ip} is in ${country}, an allowed country`);
    return fail('geofence', 'source_country_denied', `${ip} is in ${country}, not an allowed source country`);
  };
}
