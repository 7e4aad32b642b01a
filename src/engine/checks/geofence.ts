import { ValidationError, type FieldProblem } from '../../errors.js';
import type { GeoIp } from '../../geo/geoip.js';
import { parseSource } from '../../geo/source.js';
import { compileNetworks, parseAddress, parseNetwork, type Network, type NetworkList } from '../../net/address.js';
import { Type, type Static } from '@sinclair/typebox';
import type { SourceInfo } from '../../domain/decision.js';
import { anyCountry, asObject, cidrProblem, listProblems, pointer } from '../../policy/fields.js';
import { Strings } from '../../policy/section-types.js';
import { defineCheck, fail, pass, type Check } from './check.js';

declare module '../../domain/decision.js' {
  interface CheckNames {
    geofence: true;
  }
  interface ReasonCodes {
    source_not_allowed: true;
    source_country_denied: true;
    source_unknown: true;
  }
}

export const GeofenceSchema = Type.Object(
  {
    allowCidrs: Strings('source networks always allowed (IPv4 and IPv6 CIDR or single address)'),
    allowCountries: Strings('GeoIP countries a source may be in; "*" allows any'),
    unknownSource: Type.Union([Type.Literal('deny'), Type.Literal('allow')], {
      description: 'what an empty or unparsable source address gets',
    }),
  },
  { additionalProperties: false },
);

type Geofence = Static<typeof GeofenceSchema>;

/**
 * Sources that are always allowed: loopback, RFC 1918, IPv6 unique-local and link-local, i.e.
 * phones on the PBX's own networks. 100.64.0.0/10 (carrier-grade NAT, also Tailscale) is left
 * out on purpose: a cloud PBX shares that range with every other customer of its provider, so a
 * site that runs phones over it adds it knowingly. A NAT router that rewrites inbound sources to
 * its LAN address makes every caller look private: such a site must remove these ranges.
 */
const LOCAL_NETWORKS = [
  '127.0.0.0/8',
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '::1/128',
  'fc00::/7',
  'fe80::/10',
] as const;

/** The source of one request, resolved once by the engine: every check and the audit share it. */
export function resolveSource(source: string, geoip: GeoIp): SourceInfo {
  const ip = parseSource(source);
  return { ip, country: ip === null ? null : geoip.country(ip) };
}

/** `allowCidrs` compiled; a match gives the entry as the admin wrote it, for the audit's detail. */
function compileAllowCidrs(cidrs: string[]): NetworkList<string> {
  const networks: Array<[Network, string]> = [];
  const problems: FieldProblem[] = [];
  for (const [i, text] of cidrs.entries()) {
    const network = parseNetwork(text);
    if (network === null) problems.push({ field: `/geofence/allowCidrs/${i}`, message: `not an IP address or CIDR: ${JSON.stringify(text)}` });
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
  const networks = compileAllowCidrs(geofence.allowCidrs);
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

export const geofence = defineCheck({
  name: 'geofence',
  kind: 'policy',
  reasons: {
    source_not_allowed: 'the phone is not on an allowed network',
    source_country_denied: 'the phone is in a country that is not allowed',
    source_unknown: 'the phone address is unknown',
  },
  section: {
    key: 'geofence',
    schema: GeofenceSchema,
    /** The PBX's own networks, or a source GeoIP places in the home country; an empty or unparsable source is denied. */
    defaults: (site) => ({ allowCidrs: [...LOCAL_NETWORKS], allowCountries: [site.homeCountry], unknownSource: 'deny' as const }),
    problems(value, path) {
      const geofence = asObject(value);
      if (!geofence) return [];
      return [
        ...listProblems(geofence.allowCidrs, pointer(path, 'allowCidrs'), cidrProblem),
        ...listProblems(geofence.allowCountries, pointer(path, 'allowCountries'), anyCountry),
      ];
    },
  },
  form: [
    { path: '/geofence/allowCidrs', label: 'Allowed source networks (CIDR)' },
    { path: '/geofence/allowCountries', label: 'Allowed source countries' },
  ],
  compile: ({ section }) => compileGeofence(section),
});
