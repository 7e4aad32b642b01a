import { describe, expect, it } from 'vitest';
import { ValidationError, type FieldProblem } from '../../src/errors.js';
import { defaultPolicy } from '../../src/policy/defaults.js';
import { extensionNameProblem, parseDocumentText, validateDocument } from '../../src/policy/document.js';

function problemsOf(value: unknown): FieldProblem[] {
  try {
    validateDocument(value);
    return [];
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    return error.problems;
  }
}

function parseError(text: string, filename?: string): string {
  try {
    parseDocumentText(text, filename);
  } catch (error) {
    if (error instanceof ValidationError) return error.problems[0]?.message ?? '';
    throw error;
  }
  throw new Error('parsed');
}

const goodDocument = {
  defaults: defaultPolicy({ homeCountry: 'US', timezone: 'America/Chicago' }),
  extensions: {
    '1001': { budget: { dailySpend: 50 } },
    'reception@office': { destinations: { allowCountries: ['US', 'CA'] } },
    'PJSIP-trunk_2.b+x': { enabled: false },
  },
  rates: [
    { prefix: '+', perMinute: 0.5, increment: 60 },
    { prefix: '+1', perMinute: 0.01, increment: 6, minimum: 30 },
    { prefix: '+44', perMinute: 0, increment: 1 },
  ],
  blockedPrefixes: ['+1900', '+88213'],
  highRisk: { countries: ['CU', 'SO'], prefixes: ['+882', '+881'] },
  site: { denyUnknownExtensions: true },
};

describe('validateDocument', () => {
  it('accepts a complete document whose defaults are a whole policy', () => {
    expect(validateDocument(goodDocument)).toBe(goodDocument);
  });

  it('accepts an empty document and defaults that are only overrides', () => {
    expect(problemsOf({})).toEqual([]);
    expect(problemsOf({ defaults: { voicemailCallout: 'domestic' } })).toEqual([]);
  });

  it('reports every problem of a document with several, each at its field', () => {
    const problems = problemsOf({
      defaults: { budget: { dailySpend: 'lots' } },
      extensions: {
        '1001': { geofence: { allowCidrs: ['10.0.0.0/33'] }, budget: { dailySpend: -3 } },
        'front desk': { enabled: true },
        '1002': { locked: true },
      },
      rates: [
        { prefix: '+44', perMinute: 0.02, increment: 60 },
        { prefix: '+44', perMinute: 0.03, increment: 60 },
        { prefix: '44', perMinute: 0.1, increment: 1 },
        { prefix: '+33', perMinute: -0.1, increment: 0 },
      ],
      blockedPrefixes: ['+882 13'],
      highRisk: { countries: ['XX'] },
      site: { denyUnknown: true },
      comment: 'exported by hand',
    });
    const byField = Object.fromEntries(problems.map((p) => [p.field, p.message]));
    expect(byField).toEqual({
      '/comment': 'unknown field "comment"',
      '/defaults/budget/dailySpend': 'must be a number of at least 0 and at most 100000000 or null, got "lots"',
      '/extensions/1001/geofence/allowCidrs/0': '"10.0.0.0/33" is not a valid CIDR',
      '/extensions/1001/budget/dailySpend': 'must not be negative, got -3 (null means no limit)',
      '/extensions/front desk': 'invalid extension name "front desk": use 1 to 64 of letters, digits and _ . @ + -',
      '/extensions/1002/locked': 'unknown field "locked"',
      '/rates/1/prefix': 'duplicate rate prefix "+44" (also /rates/0)',
      '/rates/2/prefix': '"44" is not an E.164 prefix ("+" then 1 to 15 digits, no spaces, or "+" alone)',
      '/rates/3/perMinute': 'must be at least 0, got -0.1',
      '/rates/3/increment': 'must be at least 1, got 0',
      '/blockedPrefixes/0': '"+882 13" is not an E.164 prefix ("+" then 1 to 15 digits, no spaces)',
      '/highRisk/prefixes': 'required field "prefixes" is missing',
      '/highRisk/countries/0': 'unknown country code "XX"',
      '/site/denyUnknown': 'unknown field "denyUnknown"',
    });
    expect(problems).toHaveLength(14);
  });

  it('rejects a rate with a fractional increment or minimum and an unknown field', () => {
    const problems = problemsOf({ rates: [{ prefix: '+49', perMinute: 0.02, increment: 1.5, minimum: 0, currency: 'EUR' }] });
    expect(problems.map((p) => p.field).sort()).toEqual(['/rates/0/currency', '/rates/0/increment', '/rates/0/minimum']);
  });

  it('rejects a rate without a price', () => {
    expect(problemsOf({ rates: [{ prefix: '+49', increment: 60 }] })).toEqual([
      { field: '/rates/0/perMinute', message: 'required field "perMinute" is missing' },
    ]);
  });

  it('escapes "/" in an extension name in the field path', () => {
    expect(problemsOf({ extensions: { 'sip/1001': {} } })).toEqual([
      { field: '/extensions/sip~11001', message: 'invalid extension name "sip/1001": use 1 to 64 of letters, digits and _ . @ + -' },
    ]);
  });

  it('says what is wrong in the error message itself', () => {
    expect(() => validateDocument({ rates: [{ prefix: '+1', perMinute: -1, increment: 60 }] })).toThrow(
      'invalid document: /rates/0/perMinute: must be at least 0, got -1',
    );
  });
});

describe('extensionNameProblem', () => {
  it('accepts names Asterisk endpoints and caller IDs use', () => {
    for (const name of ['1001', 'alice', 'PJSIP_1001', 'alice@example.com', '+15551234567', 'a.b-c', 'x'.repeat(64)]) {
      expect(extensionNameProblem(name)).toBeNull();
    }
  });

  it('rejects empty, too long, and names with spaces, slashes or other characters', () => {
    expect(extensionNameProblem('')).toBe('an extension name cannot be empty');
    expect(extensionNameProblem('x'.repeat(65))).toMatch(/longer than 64 characters/);
    for (const name of ['front desk', 'PJSIP/1001', 'a;b', 'ünïcode', '1001\n']) {
      expect(extensionNameProblem(name)).toMatch(/^invalid extension name/);
    }
  });
});

describe('parseDocumentText', () => {
  it('parses JSON, with or without a byte order mark', () => {
    expect(parseDocumentText('{"site": {"denyUnknownExtensions": true}}')).toEqual({ site: { denyUnknownExtensions: true } });
    expect(parseDocumentText('\uFEFF{"rates": []}')).toEqual({ rates: [] });
  });

  it('points at the line and column of a trailing comma', () => {
    expect(parseError('{\n  "rates": [],\n}', 'policy.json')).toBe('policy.json:3:1: expected a field name in double quotes, found "}"');
  });

  it('points at a missing value, a missing comma and a bare word', () => {
    expect(parseError('{"a": }')).toBe('document:1:7: expected a value, found "}"');
    expect(parseError('{\n  "a": 1\n  "b": 2\n}')).toBe(`document:3:3: expected ',' or '}', found "\\""`);
    expect(parseError('{"enabled": yes}')).toBe('document:1:13: expected a value, found "y"');
    expect(parseError('[1, 2')).toBe("document:1:6: expected ',' or ']', found the end of the text");
  });

  it('reports an empty file and text after the document', () => {
    expect(parseError('')).toBe('document:1:1: expected a value, found the end of the text');
    expect(parseError('{} {}')).toBe('document:1:4: expected the end of the document, found "{"');
  });

  it('says that YAML is not supported when a YAML file is not also JSON', () => {
    expect(parseError('site:\n  denyUnknownExtensions: true\n', 'policy.yaml')).toMatch(
      /^policy\.yaml:1:1: expected a value, found "s" \(YAML is not supported: convert the file to JSON\)$/,
    );
    expect(parseDocumentText('{"rates": []}', 'policy.yml')).toEqual({ rates: [] });
  });

  it('throws a ValidationError so that callers report it like any other bad input', () => {
    expect(() => parseDocumentText('{', 'x.json')).toThrow(ValidationError);
  });
});
