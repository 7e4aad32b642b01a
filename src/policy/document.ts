import { Type, type Static } from '@sinclair/typebox';
import { MAX_BILLING_SECONDS, MAX_RATE_PER_MINUTE } from '../bounds.js';
import { ValidationError, type FieldProblem } from '../errors.js';
import { checkJsonDepth } from '../json-depth.js';
import { PolicyOverridesSchema, type PolicyOverrides } from './schema.js';
import { countryProblem, e164PrefixProblem, listProblems, pointer, type FieldCheck } from './fields.js';
import { combineProblems, policyFieldProblems, schemaProblems } from './validate.js';

/**
 * The import/export document: everything an admin can set, in one JSON file.
 *
 * An extension entry is the extension's overrides (any subset of a policy, `enabled`
 * included), nothing more. Whether an extension is locked is operational state, set and
 * cleared by the lock endpoints and the velocity guard: it is neither exported nor imported,
 * so restoring a policy backup never unlocks a compromised extension.
 */

export const EXTENSION_NAME_PATTERN = '^[A-Za-z0-9_.@+-]{1,64}$';
const EXTENSION_NAME = new RegExp(EXTENSION_NAME_PATTERN);

export const ExtensionNameSchema = Type.String({
  pattern: EXTENSION_NAME_PATTERN,
  description: 'the calling extension or endpoint as the dialplan passes it: 1 to 64 of A-Z a-z 0-9 _ . @ + -',
});

export const ExtensionEntrySchema = PolicyOverridesSchema;

export const RateEntrySchema = Type.Object(
  {
    prefix: Type.String({ pattern: '^\\+[0-9]{0,15}$', description: 'E.164 prefix ("+44"); "+" alone prices every unmatched destination' }),
    perMinute: Type.Number({ minimum: 0, maximum: MAX_RATE_PER_MINUTE, description: 'price per minute, in the budget currency' }),
    increment: Type.Integer({ minimum: 1, maximum: MAX_BILLING_SECONDS, description: 'billing step in seconds' }),
    minimum: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_BILLING_SECONDS, description: 'first billed interval in seconds; defaults to increment' })),
  },
  { additionalProperties: false },
);

export const HighRiskSchema = Type.Object(
  {
    countries: Type.Array(Type.String(), { description: 'ISO 3166 alpha-2 codes of high-risk destinations' }),
    prefixes: Type.Array(Type.String(), { description: 'E.164 prefixes of high-risk destinations' }),
  },
  { additionalProperties: false, description: 'denied unless a policy sets destinations.allowHighRisk' },
);

export const SiteSchema = Type.Object(
  {
    denyUnknownExtensions: Type.Optional(Type.Boolean({ description: 'deny extensions that have no entry of their own' })),
  },
  { additionalProperties: false },
);

export const PolicyDocumentSchema = Type.Object(
  {
    defaults: Type.Optional(PolicyOverridesSchema),
    extensions: Type.Optional(Type.Record(ExtensionNameSchema, ExtensionEntrySchema, { additionalProperties: false })),
    rates: Type.Optional(Type.Array(RateEntrySchema)),
    blockedPrefixes: Type.Optional(Type.Array(Type.String(), { description: 'E.164 prefixes denied for every extension' })),
    highRisk: Type.Optional(HighRiskSchema),
    site: Type.Optional(SiteSchema),
  },
  { additionalProperties: false },
);

export type ExtensionEntry = PolicyOverrides;
export type RateEntry = Static<typeof RateEntrySchema>;
export type HighRisk = Static<typeof HighRiskSchema>;
export type SiteSettings = Static<typeof SiteSchema>;

export interface PolicyDocument {
  /** Over the embedded defaults; a complete policy is one case of this. */
  defaults?: PolicyOverrides;
  extensions?: Record<string, ExtensionEntry>;
  rates?: RateEntry[];
  blockedPrefixes?: string[];
  highRisk?: HighRisk;
  site?: SiteSettings;
}

export function extensionNameProblem(name: string): string | null {
  if (EXTENSION_NAME.test(name)) return null;
  if (name === '') return 'an extension name cannot be empty';
  if (name.length > 64) return `extension name "${name.slice(0, 20)}..." is longer than 64 characters`;
  return `invalid extension name "${name}": use 1 to 64 of letters, digits and _ . @ + -`;
}

/** The document, validated whole: every problem of every part is reported, or nothing is returned. */
export function validateDocument(value: unknown): PolicyDocument {
  const problems = combineProblems(schemaProblems(PolicyDocumentSchema, value, ''), documentFieldProblems(value));
  if (problems.length > 0) throw new ValidationError(problems, 'document');
  return value as PolicyDocument;
}

function asObject(value: unknown): Record<string, unknown> | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

const country: FieldCheck = (code) => countryProblem(code, { wildcard: false });
const prefix: FieldCheck = (text) => e164PrefixProblem(text);

function documentFieldProblems(value: unknown): FieldProblem[] {
  const document = asObject(value);
  if (!document) return [];
  const highRisk = asObject(document.highRisk);
  return [
    ...policyFieldProblems(document.defaults, '/defaults'),
    ...extensionProblems(asObject(document.extensions)),
    ...rateProblems(document.rates),
    ...listProblems(document.blockedPrefixes, '/blockedPrefixes', prefix),
    ...listProblems(highRisk?.countries, '/highRisk/countries', country),
    ...listProblems(highRisk?.prefixes, '/highRisk/prefixes', prefix),
  ];
}

function extensionProblems(extensions: Record<string, unknown> | null): FieldProblem[] {
  if (!extensions) return [];
  return Object.entries(extensions).flatMap(([name, entry]) => {
    const path = pointer('/extensions', name);
    const message = extensionNameProblem(name);
    return [...(message === null ? [] : [{ field: path, message }]), ...policyFieldProblems(entry, path)];
  });
}

/** Prefixes well-formed and each priced once: two lines for one prefix leave the price to chance. */
function rateProblems(rates: unknown): FieldProblem[] {
  if (!Array.isArray(rates)) return [];
  const problems: FieldProblem[] = [];
  const firstIndex = new Map<string, number>();
  rates.forEach((rate, i) => {
    const text = asObject(rate)?.prefix;
    if (typeof text !== 'string') return;
    const field = pointer('/rates', i, 'prefix');
    const message = e164PrefixProblem(text, { bare: true });
    const first = firstIndex.get(text);
    if (message !== null) problems.push({ field, message });
    else if (first !== undefined) problems.push({ field, message: `duplicate rate prefix "${text}" (also /rates/${first})` });
    else firstIndex.set(text, i);
  });
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Text

/**
 * The document's JSON text parsed, or a ValidationError that says where it breaks:
 * `policy.json:3:14: expected ',' or '}', found "x"`. A UTF-8 byte order mark is skipped.
 * YAML is not read (no YAML parser is installed); a YAML file that is not also JSON says so.
 * A document nested too deep for validation to walk is a JsonDepthError.
 */
export function parseDocumentText(text: string, filename?: string): unknown {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    const where = filename ?? 'document';
    const found = findJsonSyntaxError(body);
    const detail = found === null ? ` ${(error as Error).message}` : `${lineColumn(body, found.offset)}: ${found.message}`;
    const yaml = filename !== undefined && /\.ya?ml$/i.test(filename) ? ' (YAML is not supported: convert the file to JSON)' : '';
    throw new ValidationError([{ field: '', message: `${where}:${detail}${yaml}` }], 'document');
  }
  checkJsonDepth(value, filename ?? 'the document');
  return value;
}

function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `${before.length}:${(before.at(-1)?.length ?? 0) + 1}`;
}

interface JsonSyntaxError {
  offset: number;
  message: string;
}

/**
 * Where JSON.parse gave up, found again: V8's message has an offset for some errors and only
 * a snippet for others. Null if the scan finds nothing (then V8's message is all there is).
 */
function findJsonSyntaxError(text: string): JsonSyntaxError | null {
  const scanner = new JsonScanner(text);
  try {
    scanner.document();
    return null;
  } catch (error) {
    if (error instanceof ExpectedError) return { offset: scanner.at, message: `expected ${error.expected}, found ${scanner.found()}` };
    // Nesting too deep for the stack: nothing better to say than V8 did.
    return null;
  }
}

class ExpectedError extends Error {
  constructor(readonly expected: string) {
    super(expected);
  }
}

/** A recursive-descent JSON recogniser that only tracks its position. */
class JsonScanner {
  at = 0;
  private static readonly STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
  private static readonly NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
  private static readonly LITERAL = /true|false|null/y;

  constructor(private readonly text: string) {}

  document(): void {
    this.value();
    this.space();
    if (this.at < this.text.length) throw new ExpectedError('the end of the document');
  }

  found(): string {
    return this.at < this.text.length ? JSON.stringify(this.text[this.at]) : 'the end of the text';
  }

  private value(): void {
    this.space();
    const char = this.text[this.at];
    if (char === '{') return this.members('}', () => this.property());
    if (char === '[') return this.members(']', () => this.value());
    if (char === '"') {
      if (this.token(JsonScanner.STRING)) return;
      throw new ExpectedError('a string closed on the same line, without bad escapes');
    }
    if (this.token(JsonScanner.NUMBER) || this.token(JsonScanner.LITERAL)) return;
    throw new ExpectedError('a value');
  }

  private property(): void {
    this.space();
    if (!this.token(JsonScanner.STRING)) throw new ExpectedError('a field name in double quotes');
    this.space();
    if (this.text[this.at] !== ':') throw new ExpectedError("':'");
    this.at++;
    this.value();
  }

  private members(close: string, member: () => void): void {
    this.at++;
    this.space();
    if (this.text[this.at] === close) {
      this.at++;
      return;
    }
    for (;;) {
      member();
      this.space();
      const char = this.text[this.at];
      if (char !== ',' && char !== close) throw new ExpectedError(`',' or '${close}'`);
      this.at++;
      if (char === close) return;
    }
  }

  private space(): void {
    while (/[ \t\n\r]/.test(this.text[this.at] ?? '')) this.at++;
  }

  private token(pattern: RegExp): boolean {
    pattern.lastIndex = this.at;
    if (!pattern.test(this.text)) return false;
    this.at = pattern.lastIndex;
    return true;
  }
}
