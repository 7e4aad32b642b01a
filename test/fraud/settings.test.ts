import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { ValidationError } from '../../src/errors.js';
import { defaultPolicy } from '../../src/policy/defaults.js';
import { validateOverrides } from '../../src/policy/validate.js';

function problems(value: unknown): Array<{ field: string; message: string }> {
  try {
    validateOverrides(value);
    return [];
  } catch (error) {
    if (error instanceof ValidationError) return error.problems;
    throw error;
  }
}

describe('the velocity policy', () => {
  it('is on by default, locking on a breach, in enforce mode', () => {
    const policy = defaultPolicy({ homeCountry: 'US', timezone: 'America/New_York' });
    expect(policy.velocity).toEqual({
      maxAttemptsPerMinute: 10,
      maxInternationalPerHour: 20,
      maxDistinctDestinationsPerHour: 30,
      maxDeniedPerHour: 10,
      maxNewCountriesPerHour: 3,
      noveltyDays: 30,
      warnRatio: 0.8,
      lockOnBreach: true,
    });
    expect(policy.mode).toBe('enforce');
  });

  it('is set like every other field, null meaning no limit', () => {
    expect(problems({ mode: 'shadow', velocity: { maxAttemptsPerMinute: null, noveltyDays: null, warnRatio: null, lockOnBreach: false } })).toEqual([]);
  });

  it('refuses limits that would deny every call, and says which field', () => {
    expect(problems({ velocity: { maxAttemptsPerMinute: 0 } })).toEqual([
      { field: '/velocity/maxAttemptsPerMinute', message: 'must be a whole number of at least 1 and at most 100000 or null, got 0' },
    ]);
    expect(problems({ velocity: { noveltyDays: 400 } })).toEqual([
      { field: '/velocity/noveltyDays', message: 'must be a whole number of at least 1 and at most 365 or null, got 400' },
    ]);
    expect(problems({ mode: 'audit' })).toEqual([{ field: '/mode', message: 'must be one of "enforce", "shadow", got "audit"' }]);
    expect(problems({ velocity: { maxCallsPerSecond: 3 } })).toEqual([{ field: '/velocity/maxCallsPerSecond', message: 'unknown field "maxCallsPerSecond"' }]);
  });
});

describe('alert settings', () => {
  const env = { DIALGUARD_TIMEZONE: 'UTC' };

  it('sends nothing and signs nothing by default, with 6 attempts, 2 s then doubling, 5 s each', () => {
    expect(loadConfig({ env }).alerts).toEqual({ webhooks: [], secret: null, timeoutMs: 5000, maxAttempts: 6, retryBaseMs: 2000 });
  });

  it('reads comma-separated webhook URLs and the secret from the environment', () => {
    const c = loadConfig({
      env: { ...env, DIALGUARD_ALERT_WEBHOOK: 'https://hooks.example.com/a, http://10.0.0.9:9000/dg', DIALGUARD_ALERT_SECRET: 's3cret', DIALGUARD_ALERT_MAX_ATTEMPTS: '2' },
    });
    expect(c.alerts).toMatchObject({ webhooks: ['https://hooks.example.com/a', 'http://10.0.0.9:9000/dg'], secret: 's3cret', maxAttempts: 2 });
  });

  it('reads alerts.webhooks from the config file, the environment winning', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dialguard-config-'));
    try {
      const configFile = join(dir, 'dialguard.json');
      writeFileSync(configFile, JSON.stringify({ alerts: { webhooks: ['https://a.example/x', 'https://b.example/y'], secret: 'from-file', retryBaseMs: 500 } }));
      expect(loadConfig({ env, configFile }).alerts).toMatchObject({ webhooks: ['https://a.example/x', 'https://b.example/y'], secret: 'from-file', retryBaseMs: 500 });
      expect(loadConfig({ env: { ...env, DIALGUARD_ALERT_SECRET: 'from-env' }, configFile }).alerts.secret).toBe('from-env');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a URL that is not http(s), without printing its path (it may hold a token)', () => {
    const load = () => loadConfig({ env: { ...env, DIALGUARD_ALERT_WEBHOOK: 'ftp://files.example.com/T0KEN' } });
    expect(load).toThrow('DIALGUARD_ALERT_WEBHOOK: "ftp://files.example.com" is not an http(s) URL');
    expect(() => loadConfig({ env: { ...env, DIALGUARD_ALERT_TIMEOUT_MS: '0' } })).toThrow(/DIALGUARD_ALERT_TIMEOUT_MS="0" must be a positive whole number/);
  });
});
