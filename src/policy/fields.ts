import { getCountries } from 'libphonenumber-js/max';
import { isValidTimezone, parseClock } from './clock.js';
import { NUMBER_TYPES } from '../domain/number.js';
import type { FieldProblem } from '../errors.js';
import { parseNetwork } from '../net/address.js';

/**
 * Semantic checks of single policy values (what a schema cannot say: country codes, CIDRs, time
 * zones…), each null when fine, else the message. They sit below the policy schema: the check
 * modules that own a policy section validate it with them.
 */

/** `base` followed by RFC 6901-escaped segments: `pointer('/extensions', 'a/b')` is `/extensions/a~1b`. */
export function pointer(base: string, ...segments: (string | number)[]): string {
  return base + segments.map((s) => `/${String(s).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

// ---------------------------------------------------------------------------------------------
// Semantic checks of single values: null when fine, else the message

/**
 * ISO 3166-1 codes that have no numbering plan of their own and so are missing from
 * libphonenumber-js (Antarctica, Bouvet Island, South Georgia, Heard Island, Pitcairn, French
 * Southern Territories, US Outlying Islands). No dialled number maps to them, but GeoIP can
 * place a source address there, so geofence lists may name them.
 */
const ISO_CODES_WITHOUT_NUMBERING = ['AQ', 'BV', 'GS', 'HM', 'PN', 'TF', 'UM'];

/**
 * libphonenumber-js's regions (which also has AC Ascension, TA Tristan da Cunha and XK Kosovo:
 * numbers resolve to them, so an admin must be able to name them) plus the codes above.
 */
const COUNTRIES: ReadonlySet<string> = new Set([...getCountries(), ...ISO_CODES_WITHOUT_NUMBERING]);

/** Codes people write for a country whose ISO code differs. */
const COUNTRY_HINTS: Readonly<Record<string, string>> = { UK: 'the United Kingdom is "GB"', EL: 'Greece is "GR"' };

export function countryProblem(code: string, opts: { wildcard: boolean }): string | null {
  if (code === '*') return opts.wildcard ? null : '"*" (any country) is not allowed here';
  if (COUNTRIES.has(code)) return null;
  const upper = code.toUpperCase();
  if (upper !== code && COUNTRIES.has(upper)) return `unknown country code "${code}" (codes are upper case: "${upper}")`;
  const hint = COUNTRY_HINTS[upper];
  return hint ? `unknown country code "${code}" (${hint})` : `unknown country code "${code}"`;
}

const E164_PREFIX = /^\+[1-9][0-9]{0,14}$/;

/** `+` then 1–15 digits; `bare` also admits `+` alone (the rate table's catch-all). */
export function e164PrefixProblem(prefix: string, opts: { bare: boolean } = { bare: false }): string | null {
  if (E164_PREFIX.test(prefix) || (opts.bare && prefix === '+')) return null;
  return `"${prefix}" is not an E.164 prefix ("+" then 1 to 15 digits, no spaces${opts.bare ? ', or "+" alone' : ''})`;
}

const NUMBER_TYPE_SET: ReadonlySet<string> = new Set(NUMBER_TYPES);

export function numberTypeProblem(type: string): string | null {
  return NUMBER_TYPE_SET.has(type) ? null : `unknown number type "${type}" (one of ${NUMBER_TYPES.join(', ')})`;
}

export function cidrProblem(text: string): string | null {
  if (parseNetwork(text) !== null) return null;
  return text.includes('/') ? `"${text}" is not a valid CIDR` : `"${text}" is not a valid IP address or CIDR`;
}

export function timezoneProblem(timezone: string): string | null {
  return isValidTimezone(timezone) ? null : `unknown IANA time zone "${timezone}" (like "America/New_York" or "UTC")`;
}

export function currencyProblem(currency: string): string | null {
  return /^[A-Z]{3}$/.test(currency) ? null : `"${currency}" is not a currency code (three upper-case letters, like "USD")`;
}

export function clockProblem(text: string, end: boolean): string | null {
  const minutes = parseClock(text);
  if (minutes !== null && (end || text !== '24:00')) return null;
  return `"${text}" is not a time (HH:MM from 00:00 to ${end ? '24:00' : '23:59'})`;
}

// ---------------------------------------------------------------------------------------------
// Semantic checks of a policy or overrides. Defensive about shape: a wrong type was reported by
// the shape pass and is skipped here.

/** A check of one string value: null when fine, else the message. */
export type FieldCheck = (value: string) => string | null;

export function asObject(value: unknown): Record<string, unknown> | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

/** Problems of every string in `list` (when it is a list). */
export function listProblems(list: unknown, path: string, problem: FieldCheck): FieldProblem[] {
  if (!Array.isArray(list)) return [];
  return list.flatMap((item, i) => {
    const message = typeof item === 'string' ? problem(item) : null;
    return message === null ? [] : [{ field: pointer(path, i), message }];
  });
}

export function stringProblem(value: unknown, path: string, problem: FieldCheck): FieldProblem[] {
  const message = typeof value === 'string' ? problem(value) : null;
  return message === null ? [] : [{ field: path, message }];
}


export const anyCountry: FieldCheck = (code) => countryProblem(code, { wildcard: true });
export const oneCountry: FieldCheck = (code) => countryProblem(code, { wildcard: false });
