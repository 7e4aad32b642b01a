import type { NormalizedNumber } from '../domain/number.js';
import { ValidationError, type FieldProblem } from '../errors.js';
import { normalizePrefix } from './normalize.js';
import { PrefixMatcher } from './prefix-matcher.js';

export interface HighRiskList {
  /** ISO 3166 alpha-2 codes. */
  countries: string[];
  /** E.164 prefixes ("+1876"). */
  prefixes: string[];
}

/**
 * The built-in high-risk list: destinations that pay out well enough per minute to be the
 * usual targets of international revenue share fraud (IRSF), whose number ranges are resold
 * to fraudsters as "international premium rate numbers".
 *
 * Countries: those that recur in published IRSF destination rankings (CFCA Global Fraud Loss
 * Surveys; Commsrisk, "What Is New with IRSF Fraud?" and "New IRSF Data Shows There Are No
 * 'Low Risk' Destinations Any More", which name Cuba, Latvia, Lithuania and Somalia as the
 * historic leaders): Cuba, the Horn and West Africa, and Pacific island states whose small
 * networks charge high termination rates. Latvia and Lithuania are left out on purpose: they
 * are EU members with ordinary business traffic, and their premium ranges are PREMIUM_RATE
 * by number type already; a site that sees no legitimate calls there can add them.
 *
 * Prefixes: the NANP area codes of the Caribbean that the FCC's and FTC's one-ring
 * ("wangiri") scam advisories name, which look like domestic numbers to a US or Canadian
 * caller (plus +1658, Jamaica's overlay of +1876); satellite and international network
 * codes (+870 Inmarsat, +881 GMSS, +882/+883 international networks), billed at several
 * dollars a minute; +979, the ITU's International Premium Rate Service.
 */
export const BUILTIN_HIGH_RISK: HighRiskList = {
  countries: [
    'CU',
    'SO', 'ER', 'SL', 'LR', 'GN', 'GW', 'KM',
    'TV', 'NR', 'TK', 'NU', 'CK', 'PG', 'SB', 'VU', 'WS', 'TO', 'FM', 'PW', 'MH', 'KI',
  ],
  prefixes: [
    '+1268', '+1284', '+1473', '+1649', '+1664', '+1767', '+1809', '+1829', '+1849', '+1876', '+1658',
    '+870', '+881', '+882', '+883',
    '+979',
  ],
};

const COUNTRY_CODE = /^[A-Z]{2}$/;

/**
 * Compiles a high-risk list into a lookup that names the entry a number matched, for the
 * audit ("country CU", "prefix +1876"), or null. Throws ValidationError naming every entry
 * that is not a country code or an E.164 prefix: a typo must not silently open a hole.
 */
export function compileHighRisk(list: HighRiskList, field = '/highRisk'): (n: NormalizedNumber) => string | null {
  const problems: FieldProblem[] = [];
  const countries = new Set<string>();
  list.countries.forEach((entry, i) => {
    const code = entry.trim().toUpperCase();
    if (COUNTRY_CODE.test(code)) countries.add(code);
    else problems.push({ field: `${field}/countries/${i}`, message: `not an ISO 3166 alpha-2 code: "${entry}"` });
  });
  const prefixes = new PrefixMatcher<true>();
  list.prefixes.forEach((entry, i) => {
    const prefix = normalizePrefix(entry);
    if (prefix) prefixes.set(prefix, true);
    else problems.push({ field: `${field}/prefixes/${i}`, message: `not an E.164 prefix: "${entry}"` });
  });
  if (problems.length > 0) throw new ValidationError(problems, 'high-risk list');

  return (n) => {
    if (n.country !== null && countries.has(n.country)) return `country ${n.country}`;
    const hit = n.e164 === null ? null : prefixes.match(n.e164);
    return hit ? `prefix ${hit.prefix}` : null;
  };
}
