import { compileHighRisk, type HighRiskList } from '../../numbers/high-risk.js';
import { normalizePrefix } from '../../numbers/normalize.js';
import { PrefixMatcher } from '../../numbers/prefix-matcher.js';
import { Type, type Static } from '@sinclair/typebox';
import { ValidationError, type FieldProblem } from '../../errors.js';
import { anyCountry, asObject, e164PrefixProblem, listProblems, numberTypeProblem, oneCountry, pointer } from '../../policy/fields.js';
import { Strings } from '../../policy/section-types.js';
import { defineCheck, fail, pass, skip, type Check } from './check.js';

declare module '../../domain/decision.js' {
  interface CheckNames {
    destination: true;
  }
  interface ReasonCodes {
    destination_country_denied: true;
    destination_type_denied: true;
    destination_high_risk: true;
    destination_prefix_blocked: true;
  }
}

export const DestinationsSchema = Type.Object(
  {
    allowCountries: Strings('ISO 3166 alpha-2 codes a call may go to; "*" allows any country'),
    denyCountries: Strings('ISO 3166 alpha-2 codes always denied, even if allowed above'),
    denyTypes: Strings('number types denied (PREMIUM_RATE, SHARED_COST, SATELLITE, INTERNATIONAL_NETWORK, …)'),
    allowHighRisk: Type.Boolean({ description: 'allow destinations on the high-risk list' }),
    blockedPrefixes: Strings('E.164 prefixes always denied for this policy ("+88213")'),
  },
  { additionalProperties: false },
);

type Destinations = Static<typeof DestinationsSchema>;

export interface DestinationLists {
  /** The site-wide high-risk list (built-in unless the site replaced it). */
  highRisk: HighRiskList;
  /** Site-wide prefixes denied for every extension, on top of each policy's own. */
  blockedPrefixes: readonly string[];
}

type BlockedBy = 'policy' | 'site-wide list';

/**
 * Where a call may go. Failures in order of precedence: a blocked prefix, a denied country,
 * a country not allowed, a denied number type, then the high-risk list unless `allowHighRisk`.
 * The high-risk list applies to international calls only: a site's own country is never
 * "high-risk" to it. Skips invalid numbers (the number check denies them) and numbers with
 * no E.164 form (emergency numbers, allowed before this check).
 *
 * A number of an international network (satellite, +882/+883, +800…) has no country, so no
 * country rule can name it: it is judged by its type and the high-risk list, and when both
 * let it through only `"*"` allows it, denied as `destination_type_denied` otherwise. A
 * country reason would tell the admin to allow a country that does not exist.
 */
export function compileDestinationCheck(destinations: Destinations, lists: DestinationLists): Check {
  const blocked = compileBlockedPrefixes(destinations.blockedPrefixes, lists.blockedPrefixes);
  const allowAny = destinations.allowCountries.includes('*');
  const allowed = upperSet(destinations.allowCountries);
  const denied = upperSet(destinations.denyCountries);
  const deniedTypes = upperSet(destinations.denyTypes);
  const highRisk = destinations.allowHighRisk ? null : compileHighRisk(lists.highRisk);

  return (ctx) => {
    const n = ctx.number;
    if (!n.valid) return skip('destination', 'not a valid number');
    if (n.e164 === null) return skip('destination', 'no E.164 destination');

    const block = blocked.match(n.e164);
    if (block) return fail('destination', 'destination_prefix_blocked', `prefix ${block.prefix} is blocked by the ${block.value}`);
    if (n.country !== null && denied.has(n.country)) {
      return fail('destination', 'destination_country_denied', `country ${n.country} is denied`);
    }
    if (n.country !== null && !allowAny && !allowed.has(n.country)) {
      return fail('destination', 'destination_country_denied', `country ${n.country} is not in allowCountries`);
    }
    const type = n.type ?? 'UNKNOWN';
    if (deniedTypes.has(type)) return fail('destination', 'destination_type_denied', `type ${type} is denied`);
    const risk = highRisk && n.international ? highRisk(n) : null;
    if (risk) return fail('destination', 'destination_high_risk', `high-risk destination: ${risk}`);
    if (n.country === null && !allowAny) {
      return fail('destination', 'destination_type_denied', `${type} ${n.e164} belongs to no country: only allowCountries "*" allows it`);
    }
    return pass('destination', `${n.country ?? n.e164} ${type} is allowed`);
  };
}

function compileBlockedPrefixes(policy: readonly string[], site: readonly string[]): PrefixMatcher<BlockedBy> {
  const problems: FieldProblem[] = [];
  const matcher = new PrefixMatcher<BlockedBy>();
  const add = (entries: readonly string[], by: BlockedBy, field: string) =>
    entries.forEach((entry, i) => {
      const prefix = normalizePrefix(entry);
      if (prefix) matcher.set(prefix, by);
      else problems.push({ field: `${field}/${i}`, message: `not an E.164 prefix: "${entry}"` });
    });
  add(site, 'site-wide list', '/blockedPrefixes');
  // Added last so that a prefix on both lists is reported as the policy's own.
  add(policy, 'policy', '/destinations/blockedPrefixes');
  if (problems.length > 0) throw new ValidationError(problems);
  return matcher;
}

function upperSet(values: readonly string[]): ReadonlySet<string> {
  return new Set(values.map((v) => v.trim().toUpperCase()));
}

export const destination = defineCheck({
  name: 'destination',
  kind: 'policy',
  reasons: {
    destination_country_denied: 'the destination country is not allowed',
    destination_type_denied: 'this type of number is not allowed',
    destination_high_risk: 'the destination is on the high-risk list',
    destination_prefix_blocked: 'the number is blocked',
  },
  section: {
    key: 'destinations',
    schema: DestinationsSchema,
    /**
     * The home country only. Countries are ISO codes, so in the North American plan the other +1
     * countries (Jamaica "JM", Dominican Republic "DO", …, the classic fraud targets) are not the
     * home country and are denied like any other foreign country. Premium-rate, shared-cost,
     * satellite and international-network numbers are denied even at home, and so is the
     * high-risk list.
     */
    defaults: (site) => ({
      allowCountries: [site.homeCountry],
      denyCountries: [],
      denyTypes: ['PREMIUM_RATE', 'SHARED_COST', 'SATELLITE', 'INTERNATIONAL_NETWORK'],
      allowHighRisk: false,
      blockedPrefixes: [],
    }),
    problems(value, path) {
      const destinations = asObject(value);
      if (!destinations) return [];
      return [
        ...listProblems(destinations.allowCountries, pointer(path, 'allowCountries'), anyCountry),
        ...listProblems(destinations.denyCountries, pointer(path, 'denyCountries'), oneCountry),
        ...listProblems(destinations.denyTypes, pointer(path, 'denyTypes'), numberTypeProblem),
        ...listProblems(destinations.blockedPrefixes, pointer(path, 'blockedPrefixes'), (prefix) => e164PrefixProblem(prefix)),
      ];
    },
  },
  form: [
    { path: '/destinations/allowCountries', label: 'Allowed destination countries' },
    { path: '/destinations/denyCountries', label: 'Denied destination countries' },
  ],
  compile: ({ section, env }) => compileDestinationCheck(section, { highRisk: env.highRisk, blockedPrefixes: env.blockedPrefixes }),
});
