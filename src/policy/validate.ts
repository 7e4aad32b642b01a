import type { TSchema } from '@sinclair/typebox';
import { Value, ValueErrorType, type ValueError } from '@sinclair/typebox/value';
import { getCountries } from 'libphonenumber-js/max';
import { isValidTimezone, parseClock, windowProblem } from './clock.js';
import { NUMBER_TYPES } from '../domain/number.js';
import { ValidationError, type FieldProblem } from '../errors.js';
import { parseNetwork } from '../net/address.js';
import { PolicyOverridesSchema, PolicySchema, type Policy, type PolicyOverrides } from './schema.js';

/**
 * Validation of policies and overrides: pure, all-or-nothing, and naming every field at fault.
 *
 * Two passes. TypeBox checks the shape (types, required and unknown fields); then semantic
 * checks look at what a schema cannot say (country codes, CIDRs, time zones…). When both find
 * something at the same field, the semantic message wins: it is the more precise one.
 */

export function validatePolicy(value: unknown, path = ''): Policy {
  const problems = policyProblems(value, path);
  if (problems.length > 0) throw new ValidationError(problems, 'policy');
  return value as Policy;
}

export function validateOverrides(value: unknown, path = ''): PolicyOverrides {
  const problems = overridesProblems(value, path);
  if (problems.length > 0) throw new ValidationError(problems, 'policy overrides');
  return value as PolicyOverrides;
}

export function policyProblems(value: unknown, path = ''): FieldProblem[] {
  return combineProblems(schemaProblems(PolicySchema, value, path), policyFieldProblems(value, path));
}

export function overridesProblems(value: unknown, path = ''): FieldProblem[] {
  return combineProblems(schemaProblems(PolicyOverridesSchema, value, path), policyFieldProblems(value, path));
}

// ---------------------------------------------------------------------------------------------
// Paths and problem lists

/** `base` followed by RFC 6901-escaped segments: `pointer('/extensions', 'a/b')` is `/extensions/a~1b`. */
export function pointer(base: string, ...segments: (string | number)[]): string {
  return base + segments.map((s) => `/${String(s).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

/** One problem per field, in the order found; a semantic message replaces a shape message. */
export function combineProblems(shape: FieldProblem[], semantic: FieldProblem[]): FieldProblem[] {
  const precise = new Map(semantic.map((p) => [p.field, p]));
  const combined = shape.map((p) => precise.get(p.field) ?? p);
  const listed = new Set(combined.map((p) => p.field));
  return [...combined, ...semantic.filter((p) => !listed.has(p.field))];
}

// ---------------------------------------------------------------------------------------------
// Shape (TypeBox)

/** TypeBox's errors as field problems with plain messages, at most one per field. */
export function schemaProblems(schema: TSchema, value: unknown, path: string): FieldProblem[] {
  const byField = new Map<string, ValueError>();
  for (const error of Value.Errors(schema, value)) {
    const seen = byField.get(error.path);
    // A missing field also fails its type check; "missing" is the useful message.
    if (!seen || (error.type === ValueErrorType.ObjectRequiredProperty && seen.type !== error.type)) byField.set(error.path, error);
  }
  return [...byField.values()].map((error) => ({ field: path + error.path, message: shapeMessage(error) }));
}

function lastSegment(path: string): string {
  return (path.split('/').pop() ?? '').replace(/~1/g, '/').replace(/~0/g, '~');
}

function shapeMessage(error: ValueError): string {
  const { schema, value } = error;
  switch (error.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return `required field "${lastSegment(error.path)}" is missing`;
    case ValueErrorType.ObjectAdditionalProperties:
      return `unknown field "${lastSegment(error.path)}"`;
    case ValueErrorType.StringPattern:
      return `${show(value)} does not match ${String(schema.pattern)}`;
    case ValueErrorType.NumberMinimum:
    case ValueErrorType.IntegerMinimum:
      return `must be at least ${String(schema.minimum)}, got ${show(value)}`;
    case ValueErrorType.NumberMaximum:
    case ValueErrorType.IntegerMaximum:
      return `must be at most ${String(schema.maximum)}, got ${show(value)}`;
    case ValueErrorType.ArrayMinItems:
      return `must list at least ${String(schema.minItems)} item(s)`;
    case ValueErrorType.Array:
    case ValueErrorType.Boolean:
    case ValueErrorType.Integer:
    case ValueErrorType.Literal:
    case ValueErrorType.Null:
    case ValueErrorType.Number:
    case ValueErrorType.Object:
    case ValueErrorType.String:
    case ValueErrorType.Union:
      return `must be ${describe(schema)}, got ${show(value)}`;
    default:
      return error.message;
  }
}

/** What a schema admits, in words: "a number of at least 0 or null", "one of "deny", "allow"". */
function describe(schema: TSchema): string {
  if (Array.isArray(schema.anyOf)) {
    const options = schema.anyOf as TSchema[];
    if (options.every((o) => o.const !== undefined)) return `one of ${options.map((o) => JSON.stringify(o.const)).join(', ')}`;
    return options.map(describe).join(' or ');
  }
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  const atMost = typeof schema.maximum === 'number' ? ` and at most ${schema.maximum}` : '';
  const atLeast = typeof schema.minimum === 'number' ? ` of at least ${schema.minimum}${atMost}` : '';
  switch (schema.type) {
    case 'null':
      return 'null';
    case 'string':
      return 'a string';
    case 'number':
      return `a number${atLeast}`;
    case 'integer':
      return `a whole number${atLeast}`;
    case 'boolean':
      return 'true or false';
    case 'array':
      return 'a list';
    case 'object':
      return 'an object';
    default:
      return 'something else';
  }
}

/** A value quoted for a message, cut short: a wrong value may be a whole pasted document. */
function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  // JSON.parse reads 1e400 as Infinity, which JSON.stringify would show as null.
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
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

function numberTypeProblem(type: string): string | null {
  return NUMBER_TYPE_SET.has(type) ? null : `unknown number type "${type}" (one of ${NUMBER_TYPES.join(', ')})`;
}

function cidrProblem(text: string): string | null {
  if (parseNetwork(text) !== null) return null;
  return text.includes('/') ? `"${text}" is not a valid CIDR` : `"${text}" is not a valid IP address or CIDR`;
}

export function timezoneProblem(timezone: string): string | null {
  return isValidTimezone(timezone) ? null : `unknown IANA time zone "${timezone}" (like "America/New_York" or "UTC")`;
}

function currencyProblem(currency: string): string | null {
  return /^[A-Z]{3}$/.test(currency) ? null : `"${currency}" is not a currency code (three upper-case letters, like "USD")`;
}

function clockProblem(text: string, end: boolean): string | null {
  const minutes = parseClock(text);
  if (minutes !== null && (end || text !== '24:00')) return null;
  return `"${text}" is not a time (HH:MM from 00:00 to ${end ? '24:00' : '23:59'})`;
}

// ---------------------------------------------------------------------------------------------
// Semantic checks of a policy or overrides. Defensive about shape: a wrong type was reported by
// the shape pass and is skipped here.

/** A check of one string value: null when fine, else the message. */
export type FieldCheck = (value: string) => string | null;

function asObject(value: unknown): Record<string, unknown> | null {
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

function stringProblem(value: unknown, path: string, problem: FieldCheck): FieldProblem[] {
  const message = typeof value === 'string' ? problem(value) : null;
  return message === null ? [] : [{ field: path, message }];
}

const anyCountry: FieldCheck = (code) => countryProblem(code, { wildcard: true });
const oneCountry: FieldCheck = (code) => countryProblem(code, { wildcard: false });
const blockedPrefix: FieldCheck = (prefix) => e164PrefixProblem(prefix);

/** Semantic problems of a policy or of overrides (whatever parts are present), under `path`. */
export function policyFieldProblems(value: unknown, path: string): FieldProblem[] {
  const policy = asObject(value);
  if (!policy) return [];
  return [
    ...destinationProblems(asObject(policy.destinations), pointer(path, 'destinations')),
    ...scheduleProblems(asObject(policy.schedule), pointer(path, 'schedule')),
    ...geofenceProblems(asObject(policy.geofence), pointer(path, 'geofence')),
    ...listProblems(asObject(policy.sources)?.exemptCidrs, pointer(path, 'sources', 'exemptCidrs'), cidrProblem),
    ...budgetProblems(asObject(policy.budget), pointer(path, 'budget')),
  ];
}

function destinationProblems(destinations: Record<string, unknown> | null, path: string): FieldProblem[] {
  if (!destinations) return [];
  return [
    ...listProblems(destinations.allowCountries, pointer(path, 'allowCountries'), anyCountry),
    ...listProblems(destinations.denyCountries, pointer(path, 'denyCountries'), oneCountry),
    ...listProblems(destinations.denyTypes, pointer(path, 'denyTypes'), numberTypeProblem),
    ...listProblems(destinations.blockedPrefixes, pointer(path, 'blockedPrefixes'), blockedPrefix),
  ];
}

function scheduleProblems(schedule: Record<string, unknown> | null, path: string): FieldProblem[] {
  if (!schedule) return [];
  const windows = Array.isArray(schedule.windows) ? schedule.windows : [];
  return [
    ...stringProblem(schedule.timezone, pointer(path, 'timezone'), timezoneProblem),
    ...windows.flatMap((window, i) => windowProblems(asObject(window), pointer(path, 'windows', i))),
  ];
}

function windowProblems(window: Record<string, unknown> | null, path: string): FieldProblem[] {
  if (!window) return [];
  const { from, to } = window;
  const problems = [
    ...stringProblem(from, pointer(path, 'from'), (text) => clockProblem(text, false)),
    ...stringProblem(to, pointer(path, 'to'), (text) => clockProblem(text, true)),
  ];
  if (problems.length > 0 || typeof from !== 'string' || typeof to !== 'string') return problems;
  const message = windowProblem({ from, to });
  return message === null ? [] : [{ field: path, message }];
}

function geofenceProblems(geofence: Record<string, unknown> | null, path: string): FieldProblem[] {
  if (!geofence) return [];
  return [
    ...listProblems(geofence.allowCidrs, pointer(path, 'allowCidrs'), cidrProblem),
    ...listProblems(geofence.allowCountries, pointer(path, 'allowCountries'), anyCountry),
  ];
}

const LIMITS = ['dailySpend', 'monthlySpend', 'dailyMinutes', 'maxConcurrent'] as const;

function budgetProblems(budget: Record<string, unknown> | null, path: string): FieldProblem[] {
  if (!budget) return [];
  const problems = stringProblem(budget.currency, pointer(path, 'currency'), currencyProblem);
  for (const key of LIMITS) {
    const limit = budget[key];
    if (typeof limit === 'number' && limit < 0) {
      problems.push({ field: pointer(path, key), message: `must not be negative, got ${limit} (null means no limit)` });
    }
  }
  const { minCallSeconds: min, maxCallSeconds: max } = budget;
  if (typeof min === 'number' && typeof max === 'number' && min > max) {
    problems.push({
      field: pointer(path, 'minCallSeconds'),
      message: `minCallSeconds (${min}) is more than maxCallSeconds (${max}): every call would be denied`,
    });
  }
  return problems;
}
