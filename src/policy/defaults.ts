import { ConfigError, type FieldProblem } from '../errors.js';
import type { Policy } from './schema.js';
import { countryProblem, timezoneProblem } from './validate.js';

export interface DefaultPolicyOptions {
  /** ISO 3166 alpha-2 code of the country the PBX dials from ("US"). */
  homeCountry: string;
  /** IANA time zone of schedules and of the budget day and month. */
  timezone: string;
}

/**
 * Sources that are always allowed: loopback, RFC 1918, IPv6 unique-local and link-local, i.e.
 * phones on the PBX's own networks. 100.64.0.0/10 (carrier-grade NAT, also Tailscale) is left
 * out on purpose: a cloud PBX shares that range with every other customer of its provider, so a
 * site that runs phones over it adds it knowingly. A NAT router that rewrites inbound sources to
 * its LAN address makes every caller look private: such a site must remove these ranges.
 */
export const LOCAL_NETWORKS = [
  '127.0.0.0/8',
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '::1/128',
  'fc00::/7',
  'fe80::/10',
] as const;

/**
 * The home currency only where its unit is within about a factor two of the dollar: the
 * default amounts (25 a day, 300 a month) stay sensible. Elsewhere (25 JPY or 25 INR would deny
 * nearly every call) they stay dollars until an admin sets a currency that matches the rates.
 */
const CURRENCY_BY_COUNTRY: Readonly<Record<string, string>> = {
  US: 'USD',
  CA: 'CAD',
  GB: 'GBP',
  CH: 'CHF',
  AU: 'AUD',
  NZ: 'NZD',
  ...Object.fromEntries(
    ['AT', 'BE', 'CY', 'DE', 'EE', 'ES', 'FI', 'FR', 'GR', 'HR', 'IE', 'IT', 'LT', 'LU', 'LV', 'MT', 'NL', 'PT', 'SI', 'SK'].map(
      (country) => [country, 'EUR'],
    ),
  ),
};

/**
 * Velocity limits that a person at a phone does not reach and a fraud run reaches within
 * minutes. They count calls placed and attempts the policy denied, not attempts a budget refused
 * (those cost nothing and probe nothing), so a burst of retries on a busy line never locks it. A
 * call-centre extension raises them in its own entry.
 */
const DEFAULT_VELOCITY: Policy['velocity'] = {
  maxAttemptsPerMinute: 10,
  maxInternationalPerHour: 20,
  maxDistinctDestinationsPerHour: 30,
  maxDeniedPerHour: 10,
  maxNewCountriesPerHour: 3,
  noveltyDays: 30,
  warnRatio: 0.8,
  lockOnBreach: true,
};

/**
 * The embedded default policy: secure with no configuration at all.
 *
 * - Destinations: the home country only. Countries are ISO codes, so in the North American
 *   plan the other +1 countries (Jamaica "JM", Dominican Republic "DO", …, the classic fraud
 *   targets) are not the home country and are denied like any other foreign country.
 *   Premium-rate, shared-cost, satellite and international-network numbers are denied even at
 *   home, and so is the high-risk list.
 * - Schedule: `appliesTo: 'none'` with no windows, i.e. no time restriction until an admin
 *   writes windows and chooses which calls they apply to.
 * - Geofence: the PBX's own networks (see LOCAL_NETWORKS), or a source GeoIP places in the home
 *   country; an empty or unparsable source is denied.
 * - Voicemail call-out denied; budgets of 25 a day, 300 a month, 600 minutes a day, two calls
 *   at once, one hour per call, and a call that could not last 30 s is refused.
 * - Velocity (DEFAULT_VELOCITY) enforced, a breach locks the extension; mode `enforce`.
 * - At most 10 calls at once from one source address across extensions, and at most 5
 *   extensions calling one number abroad in an hour.
 *
 * Throws ConfigError when the options themselves are unusable.
 */
export function defaultPolicy(opts: DefaultPolicyOptions): Policy {
  assertOptions(opts);
  return {
    enabled: true,
    numbering: { accessPrefix: '' },
    destinations: {
      allowCountries: [opts.homeCountry],
      denyCountries: [],
      denyTypes: ['PREMIUM_RATE', 'SHARED_COST', 'SATELLITE', 'INTERNATIONAL_NETWORK'],
      allowHighRisk: false,
      blockedPrefixes: [],
    },
    schedule: { timezone: opts.timezone, appliesTo: 'none', windows: [] },
    geofence: { allowCidrs: [...LOCAL_NETWORKS], allowCountries: [opts.homeCountry], unknownSource: 'deny' },
    voicemailCallout: 'deny',
    budget: {
      currency: CURRENCY_BY_COUNTRY[opts.homeCountry] ?? 'USD',
      dailySpend: 25,
      monthlySpend: 300,
      dailyMinutes: 600,
      maxConcurrent: 2,
      maxCallSeconds: 3600,
      minCallSeconds: 30,
    },
    velocity: { ...DEFAULT_VELOCITY },
    // Ten calls at once from one address is an office, not a phone; an office behind NAT with more raises it in its extensions' entries.
    // A LAN address that carries many calls is the PBX, an SBC or a NAT router, not an attacker's box.
    sources: { maxConcurrentPerSource: 10, exemptCidrs: [...LOCAL_NETWORKS] },
    // IRSF numbers are dialled from every compromised account; five colleagues calling one number abroad within the hour is rare.
    spread: { maxExtensionsPerDestination: 5, windowHours: 1, internationalOnly: true },
    mode: 'enforce',
  };
}

function assertOptions(opts: DefaultPolicyOptions): void {
  const problems: FieldProblem[] = [];
  const country = countryProblem(opts.homeCountry, { wildcard: false });
  if (country !== null) problems.push({ field: 'homeCountry', message: country });
  const timezone = timezoneProblem(opts.timezone);
  if (timezone !== null) problems.push({ field: 'timezone', message: timezone });
  if (problems.length > 0) {
    throw new ConfigError(`cannot build the default policy: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`, problems);
  }
}
