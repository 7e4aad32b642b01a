import { describe, expect, it } from 'vitest';
import { ValidationError, type FieldProblem } from '../../src/errors.js';
import { defaultPolicy } from '../../src/policy/defaults.js';
import { validateOverrides, validatePolicy } from '../../src/policy/validate.js';

const policy = () => defaultPolicy({ homeCountry: 'US', timezone: 'America/New_York' });

/** The problems validateOverrides reports for `value` (none if it passes). */
function problemsOf(value: unknown, path?: string): FieldProblem[] {
  try {
    validateOverrides(value, path);
    return [];
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    return error.problems;
  }
}

/** Expects exactly one problem, at `field`, whose message matches `message`. */
function expectOneProblem(value: unknown, field: string, message: string | RegExp): void {
  const problems = problemsOf(value);
  expect(problems).toHaveLength(1);
  expect(problems[0]?.field).toBe(field);
  expect(problems[0]?.message).toMatch(message);
}

describe('validatePolicy', () => {
  it('returns a complete, correct policy unchanged', () => {
    const value = policy();
    expect(validatePolicy(value)).toBe(value);
  });

  it('names every missing section of an incomplete policy', () => {
    const { budget: _budget, geofence: _geofence, ...rest } = policy();
    expect(() => validatePolicy(rest)).toThrow(ValidationError);
    try {
      validatePolicy(rest);
    } catch (error) {
      expect((error as ValidationError).problems).toEqual([
        { field: '/geofence', message: 'required field "geofence" is missing' },
        { field: '/budget', message: 'required field "budget" is missing' },
      ]);
    }
  });

  it('refuses something that is not an object at all', () => {
    expect(() => validatePolicy('allow everything')).toThrow(/must be an object, got "allow everything"/);
  });

  it('refuses a minimum call longer than the maximum call, since every call would be denied', () => {
    const value = policy();
    value.budget.minCallSeconds = 120;
    value.budget.maxCallSeconds = 60;
    expect(() => validatePolicy(value)).toThrow(/\/budget\/minCallSeconds: minCallSeconds \(120\) is more than maxCallSeconds \(60\)/);
  });

  it('prefixes field paths with the given path and has a stable code', () => {
    const value = { ...policy(), enabled: 'yes' };
    try {
      validatePolicy(value, '/defaults');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).code).toBe('DG_VALIDATION');
      expect((error as ValidationError).problems).toEqual([{ field: '/defaults/enabled', message: 'must be true or false, got "yes"' }]);
    }
  });
});

describe('validateOverrides', () => {
  it('accepts an empty object: the extension inherits everything', () => {
    expect(validateOverrides({})).toEqual({});
  });

  it('accepts a realistic set of overrides', () => {
    const overrides = {
      destinations: { allowCountries: ['US', 'CA', 'MX'], denyCountries: ['CU'], blockedPrefixes: ['+1900', '+88213'] },
      schedule: { appliesTo: 'international', windows: [{ days: ['mon', 'fri'], from: '22:00', to: '06:00' }, { days: ['sat'], from: '00:00', to: '24:00' }] },
      geofence: { allowCidrs: ['203.0.113.0/24', '2001:db8::/32', '198.51.100.7', '::ffff:192.0.2.0/120'], allowCountries: ['*'] },
      budget: { currency: 'EUR', dailySpend: null, monthlySpend: 0, maxConcurrent: null },
      voicemailCallout: 'domestic',
      enabled: false,
    };
    expect(validateOverrides(overrides)).toBe(overrides);
  });

  it('rejects an unknown field by name', () => {
    expectOneProblem({ budgt: { dailySpend: 5 } }, '/budgt', 'unknown field "budgt"');
    expectOneProblem({ budget: { daily: 5 } }, '/budget/daily', 'unknown field "daily"');
  });

  it('rejects an unknown country code, with a hint for common mistakes', () => {
    expectOneProblem({ destinations: { allowCountries: ['US', 'XX'] } }, '/destinations/allowCountries/1', 'unknown country code "XX"');
    expectOneProblem({ destinations: { denyCountries: ['UK'] } }, '/destinations/denyCountries/0', /"UK".*the United Kingdom is "GB"/);
    expectOneProblem({ geofence: { allowCountries: ['us'] } }, '/geofence/allowCountries/0', /upper case: "US"/);
  });

  it('accepts "*" only where it means any country', () => {
    expect(problemsOf({ destinations: { allowCountries: ['*'] }, geofence: { allowCountries: ['*'] } })).toEqual([]);
    expectOneProblem({ destinations: { denyCountries: ['*'] } }, '/destinations/denyCountries/0', /"\*" \(any country\) is not allowed here/);
  });

  it('accepts ISO codes that have no numbering plan of their own, such as Antarctica', () => {
    expect(problemsOf({ geofence: { allowCountries: ['AQ', 'BV', 'UM', 'XK'] } })).toEqual([]);
  });

  it('rejects a number type that does not exist', () => {
    expectOneProblem({ destinations: { denyTypes: ['PREMIUM_RATE', 'PREMIUM'] } }, '/destinations/denyTypes/1', /unknown number type "PREMIUM"/);
  });

  it('rejects a blocked prefix that is not E.164', () => {
    for (const prefix of ['44', '+44 20', '+', '+1234567890123456', '+44a', '+0123']) {
      expectOneProblem({ destinations: { blockedPrefixes: [prefix] } }, '/destinations/blockedPrefixes/0', 'is not an E.164 prefix');
    }
    expect(problemsOf({ destinations: { blockedPrefixes: ['+8', '+123456789012345'] } })).toEqual([]);
  });

  it('rejects bad CIDRs and addresses under the extension path', () => {
    const problems = problemsOf({ geofence: { allowCidrs: ['10.0.0.0/8', '10.0.0.0/33', '010.0.0.1', 'fe80::/129', 'lan'] } }, '/extensions/1001');
    expect(problems).toEqual([
      { field: '/extensions/1001/geofence/allowCidrs/1', message: '"10.0.0.0/33" is not a valid CIDR' },
      { field: '/extensions/1001/geofence/allowCidrs/2', message: '"010.0.0.1" is not a valid IP address or CIDR' },
      { field: '/extensions/1001/geofence/allowCidrs/3', message: '"fe80::/129" is not a valid CIDR' },
      { field: '/extensions/1001/geofence/allowCidrs/4', message: '"lan" is not a valid IP address or CIDR' },
    ]);
  });

  it('rejects times that are not HH:MM, and 24:00 as a start', () => {
    const window = (from: string, to: string) => ({ schedule: { windows: [{ days: ['mon'], from, to }] } });
    expectOneProblem(window('8:00', '17:00'), '/schedule/windows/0/from', '"8:00" is not a time (HH:MM from 00:00 to 23:59)');
    expectOneProblem(window('08:00', '24:01'), '/schedule/windows/0/to', '"24:01" is not a time (HH:MM from 00:00 to 24:00)');
    expectOneProblem(window('24:00', '06:00'), '/schedule/windows/0/from', /"24:00" is not a time/);
    expectOneProblem(window('12:60', '13:00'), '/schedule/windows/0/from', /"12:60" is not a time/);
    expect(problemsOf(window('00:00', '24:00'))).toEqual([]);
    expect(problemsOf(window('23:59', '00:00'))).toEqual([]);
  });

  it('rejects a window that starts when it ends', () => {
    expectOneProblem({ schedule: { windows: [{ days: ['mon'], from: '08:00', to: '08:00' }] } }, '/schedule/windows/0', /00:00 to 24:00/);
  });

  it('rejects an unknown day and an empty day list', () => {
    const problems = problemsOf({ schedule: { windows: [{ days: ['monday'], from: '08:00', to: '17:00' }, { days: [], from: '08:00', to: '17:00' }] } });
    expect(problems.map((p) => p.field)).toEqual(['/schedule/windows/0/days/0', '/schedule/windows/1/days']);
    expect(problems[0]?.message).toMatch(/must be one of "mon", "tue"/);
  });

  it('rejects a time zone that is not IANA', () => {
    expectOneProblem({ schedule: { timezone: 'Eastern Time' } }, '/schedule/timezone', 'unknown IANA time zone "Eastern Time"');
    expect(problemsOf({ schedule: { timezone: 'Europe/London' } })).toEqual([]);
  });

  it('rejects negative budgets and says that null means no limit', () => {
    expectOneProblem({ budget: { dailySpend: -1 } }, '/budget/dailySpend', 'must not be negative, got -1 (null means no limit)');
    expectOneProblem({ budget: { maxConcurrent: -2 } }, '/budget/maxConcurrent', /must not be negative/);
    expectOneProblem({ budget: { maxCallSeconds: 0 } }, '/budget/maxCallSeconds', 'must be at least 1, got 0');
    expectOneProblem({ budget: { maxConcurrent: 1.5 } }, '/budget/maxConcurrent', /must be a whole number of at least 0 and at most 10000 or null, got 1.5/);
  });

  it('rejects a budget given as text', () => {
    expectOneProblem({ budget: { monthlySpend: '300' } }, '/budget/monthlySpend', 'must be a number of at least 0 and at most 100000000 or null, got "300"');
  });

  it('rejects a currency that is not three upper-case letters', () => {
    for (const currency of ['usd', 'US', 'EURO']) {
      expectOneProblem({ budget: { currency } }, '/budget/currency', `"${currency}" is not a currency code`);
    }
  });

  it('rejects enumerations it does not know', () => {
    expectOneProblem({ voicemailCallout: 'sometimes' }, '/voicemailCallout', 'must be one of "deny", "domestic", "allow", got "sometimes"');
    expectOneProblem({ schedule: { appliesTo: 'weekends' } }, '/schedule/appliesTo', /one of "all", "international", "none"/);
    expectOneProblem({ geofence: { unknownSource: 'maybe' } }, '/geofence/unknownSource', /one of "deny", "allow"/);
  });

  it('checks the intrusion section: trusted networks in the address grammar, a whole threshold from 0, a window of 1 to 168 hours', () => {
    expect(problemsOf({ intrusion: { failureThreshold: 0, trustedCidrs: ['198.51.100.7', '2001:db8::/48'] } })).toEqual([]);
    expect(problemsOf({ intrusion: { trustedCidrs: ['10.0.0.0/8', 'office', '10.0.0.0/33'] } }, '/extensions/1001')).toEqual([
      { field: '/extensions/1001/intrusion/trustedCidrs/1', message: '"office" is not a valid IP address or CIDR' },
      { field: '/extensions/1001/intrusion/trustedCidrs/2', message: '"10.0.0.0/33" is not a valid CIDR' },
    ]);
    expectOneProblem({ intrusion: { failureThreshold: -1 } }, '/intrusion/failureThreshold', 'must be at least 0, got -1');
    expectOneProblem({ intrusion: { failureThreshold: 2.5 } }, '/intrusion/failureThreshold', /must be a whole number of at least 0 and at most 100000, got 2.5/);
    expectOneProblem({ intrusion: { windowHours: 0 } }, '/intrusion/windowHours', 'must be at least 1, got 0');
    expectOneProblem({ intrusion: { windowHours: 169 } }, '/intrusion/windowHours', 'must be at most 168, got 169');
    expectOneProblem({ intrusion: { lockOnTakeover: 'yes' } }, '/intrusion/lockOnTakeover', 'must be true or false, got "yes"');
    expectOneProblem({ intrusion: { trustedCidr: [] } }, '/intrusion/trustedCidr', 'unknown field "trustedCidr"');
  });

  it('rejects an access prefix with letters', () => {
    expectOneProblem({ numbering: { accessPrefix: '9a' } }, '/numbering/accessPrefix', /"9a" does not match/);
  });

  it('reports every problem at once, one per field, and never stops at the first', () => {
    const problems = problemsOf({
      enabled: 1,
      budget: { dailySpend: -5, currency: 'usd' },
      geofence: { allowCidrs: ['300.1.1.1'] },
      destinations: { allowCountries: ['ZZ'] },
    });
    expect(problems.map((p) => p.field).sort()).toEqual([
      '/budget/currency',
      '/budget/dailySpend',
      '/destinations/allowCountries/0',
      '/enabled',
      '/geofence/allowCidrs/0',
    ]);
  });

  it('summarises the first problem and the count in the error message', () => {
    expect(() => validateOverrides({ budgt: 1, enabled: 'no' })).toThrow('invalid policy overrides: /budgt: unknown field "budgt" (and 1 more)');
  });
});
