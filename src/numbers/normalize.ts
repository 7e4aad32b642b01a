import { parsePhoneNumberWithError, type CountryCode, type PhoneNumber } from 'libphonenumber-js/max';
import type { NormalizedNumber, NumberType } from '../domain/number.js';
import { emergencyNumbers } from './emergency.js';
import { PrefixMatcher } from './prefix-matcher.js';

export interface NormalizeOptions {
  /** ISO 3166 alpha-2, upper case: whose dialling rules (IDD, trunk prefix) apply. */
  homeCountry: string;
  /** Trunk access digits users dial first ("9"); empty when there are none. */
  accessPrefix: string;
}

/** Characters phones, people and CRMs put between digits. */
const SEPARATORS = /[\s().\-/]/g;
const DIALLABLE = /^\+?\d+$/;
const LEADING_PLUS = /^\+/;
const COUNTRY_CODE_FIRST = /^[1-9]\d{0,14}$/;
/** Longer than any E.164 number with every IDD in front: not worth parsing. */
const MAX_LENGTH = 24;

/**
 * libphonenumber reports numbers of the ITU's shared codes (region "001") with no country
 * and a type that does not say what they are (Inmarsat is MOBILE, Thuraya VOIP). Rule:
 * +870 (Inmarsat), +881 (Global Mobile Satellite System: Iridium, Globalstar…) and +88216
 * (Thuraya, inside the +882 international networks) are SATELLITE; +979 (International
 * Premium Rate Service) is PREMIUM_RATE, so that every policy that denies premium rate
 * denies it; every other shared code (+800 universal freephone, +808 shared cost, +878,
 * +882, +883, +888) is INTERNATIONAL_NETWORK. +800 is included: it is not free from every
 * trunk, and a call with no destination country is only allowed by an explicit "*".
 */
const NON_GEOGRAPHIC = new PrefixMatcher<NumberType>([
  ['+870', 'SATELLITE'],
  ['+881', 'SATELLITE'],
  ['+88216', 'SATELLITE'],
  ['+979', 'PREMIUM_RATE'],
]);

/**
 * Applies the home country's dialling rules to a number as dialled: strips the trunk access
 * prefix, then reads the international prefix (011 in the NANP, 00 in most of Europe, 0011
 * in Australia…), the national trunk prefix (0 in GB) or a leading "+" as libphonenumber's
 * metadata for the home country says.
 *
 * The access prefix is stripped when what follows is a valid or emergency number; if it is
 * not but the whole string is, the whole string is kept: on a site with access prefix 9,
 * 9911 and 911 are both the emergency number 911 (a US multi-line system must connect 911
 * dialled without the prefix), and 9125551234 is the US number it looks like.
 *
 * An emergency number of the home country is valid, domestic, has no E.164 form and no type.
 * Other short numbers (411, *67) are invalid. `e164` is set whenever libphonenumber can form
 * a number of possible length, even an invalid one, so the audit shows what was meant.
 */
export function normalizeNumber(dialled: string, opts: NormalizeOptions): NormalizedNumber {
  const cleaned = dialled.replace(SEPARATORS, '');
  const { accessPrefix } = opts;
  if (accessPrefix === '' || cleaned.length <= accessPrefix.length || !cleaned.startsWith(accessPrefix)) {
    return interpret(cleaned, opts.homeCountry);
  }
  const stripped = interpret(cleaned.slice(accessPrefix.length), opts.homeCountry);
  if (stripped.valid) return stripped;
  const whole = interpret(cleaned, opts.homeCountry);
  return whole.valid ? whole : stripped;
}

/**
 * An E.164 prefix as an admin may write it ("+1 876", "1876", "+88213") in canonical form
 * ("+1876"), or null when it cannot be one (no digits, leading 0, longer than E.164).
 */
export function normalizePrefix(prefix: string): string | null {
  const digits = prefix.replace(SEPARATORS, '').replace(LEADING_PLUS, '');
  return COUNTRY_CODE_FIRST.test(digits) ? `+${digits}` : null;
}

function interpret(digits: string, homeCountry: string): NormalizedNumber {
  if (emergencyNumbers(homeCountry).has(digits)) {
    return { digits, e164: null, country: homeCountry, type: null, valid: true, international: false };
  }
  if (digits.length > MAX_LENGTH || !DIALLABLE.test(digits)) return unparsable(digits);
  let parsed: PhoneNumber;
  try {
    parsed = parsePhoneNumberWithError(digits, { defaultCountry: homeCountry as CountryCode, extract: false });
  } catch {
    return unparsable(digits);
  }
  if (!parsed.isPossible()) return unparsable(digits);

  const e164 = parsed.number;
  const country = parsed.country ?? null;
  const valid = parsed.isValid();
  const international = country !== homeCountry;
  if (!valid) return { digits, e164, country, type: null, valid, international };
  const type: NumberType = country === null ? nonGeographicType(e164) : (parsed.getType() ?? 'UNKNOWN');
  return { digits, e164, country, type, valid, international };
}

function nonGeographicType(e164: string): NumberType {
  return NON_GEOGRAPHIC.match(e164)?.value ?? 'INTERNATIONAL_NETWORK';
}

function unparsable(digits: string): NormalizedNumber {
  return { digits, e164: null, country: null, type: null, valid: false, international: false };
}
