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
    expect(loadConfig({ env }).alerts).toEqual({ webhooks: [], secret: null, timeoutMs: 5000, maxAttempts: 6, retryBaseMs: 2000, mail: null });
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

  it('reads the SMTP server, its login (percent-decoded) and the recipients from the environment', () => {
    const c = loadConfig({
      env: {
        ...env,
        DIALGUARD_ALERT_SMTP: 'smtp://alerts%40example.com:p%40ss%3Aw0rd@mail.example.com:2525',
        DIALGUARD_ALERT_MAIL_TO: 'pbx-admin@example.com, oncall@example.com',
        DIALGUARD_ALERT_MAIL_FROM: 'dialguard <dialguard@example.com>',
      },
    });
    expect(c.alerts.mail).toEqual({
      secure: false,
      host: 'mail.example.com',
      port: 2525,
      auth: { user: 'alerts@example.com', password: 'p@ss:w0rd' },
      to: ['pbx-admin@example.com', 'oncall@example.com'],
      from: 'dialguard <dialguard@example.com>',
    });
  });

  it('smtps:// is TLS on port 465 by default, smtp:// port 587; no user means no login', () => {
    const mail = (smtp: string) => loadConfig({ env: { ...env, DIALGUARD_ALERT_SMTP: smtp, DIALGUARD_ALERT_MAIL_TO: 'a@example.com' } }).alerts.mail;
    expect(mail('smtps://u:p@smtp.example.com')).toMatchObject({ secure: true, port: 465, auth: { user: 'u', password: 'p' } });
    expect(mail('smtp://relay.lan')).toMatchObject({ secure: false, port: 587, auth: null, from: expect.stringMatching(/^dialguard@/) });
    expect(mail('smtp://[::1]:25')).toMatchObject({ host: '::1', port: 25 });
  });

  it('reads alerts.smtp, mailTo and mailFrom from the config file, the environment winning', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dialguard-config-'));
    try {
      const configFile = join(dir, 'dialguard.json');
      writeFileSync(configFile, JSON.stringify({ alerts: { smtp: 'smtps://u:p@smtp.example.com:465', mailTo: ['a@example.com'], mailFrom: 'dg@example.com' } }));
      expect(loadConfig({ env, configFile }).alerts.mail).toMatchObject({ host: 'smtp.example.com', to: ['a@example.com'], from: 'dg@example.com' });
      expect(loadConfig({ env: { ...env, DIALGUARD_ALERT_MAIL_TO: 'b@example.com,c@example.com' }, configFile }).alerts.mail?.to).toEqual(['b@example.com', 'c@example.com']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a bad SMTP URL or address without printing the password', () => {
    const load = (extra: Record<string, string>) => () => loadConfig({ env: { ...env, DIALGUARD_ALERT_MAIL_TO: 'a@example.com', ...extra } });
    expect(load({ DIALGUARD_ALERT_SMTP: 'http://u:hunter2@mail.example.com' })).toThrow('DIALGUARD_ALERT_SMTP: "http://mail.example.com" is not smtp://USER:PASSWORD@HOST:PORT');
    expect(load({ DIALGUARD_ALERT_SMTP: 'smtp://u:hunter2@mail.example.com/path' })).toThrow(/"smtp:\/\/mail\.example\.com" is not/);
    expect(load({ DIALGUARD_ALERT_SMTP: 'smtp://mail.example.com', DIALGUARD_ALERT_MAIL_TO: 'not-an-address' })).toThrow('DIALGUARD_ALERT_MAIL_TO: "not-an-address" is not a mail address');
    expect(load({ DIALGUARD_ALERT_SMTP: 'smtp://mail.example.com', DIALGUARD_ALERT_MAIL_FROM: 'dialguard' })).toThrow(/DIALGUARD_ALERT_MAIL_FROM: "dialguard" is not a mail address/);
    expect(() => loadConfig({ env: { ...env, DIALGUARD_ALERT_SMTP: 'smtp://mail.example.com' } })).toThrow(/DIALGUARD_ALERT_MAIL_TO is not/);
    expect(() => loadConfig({ env: { ...env, DIALGUARD_ALERT_MAIL_TO: 'a@example.com' } })).toThrow(/DIALGUARD_ALERT_SMTP is not/);
    const messages = ['smtpx://u:hunter2@mail.example.com', 'smtp://u:hunter2@', 'smtp://u:hunter2@mail.example.com?tls=no'].map((smtp) => {
      try {
        load({ DIALGUARD_ALERT_SMTP: smtp })();
        return 'accepted';
      } catch (error) {
        return (error as Error).message;
      }
    });
    expect(messages).toEqual([
      expect.stringMatching(/^DIALGUARD_ALERT_SMTP: "smtpx:\/\/mail\.example\.com" is not/),
      expect.stringMatching(/^DIALGUARD_ALERT_SMTP: "smtp:\/\/…" is not/),
      expect.stringMatching(/^DIALGUARD_ALERT_SMTP: "smtp:\/\/mail\.example\.com" is not/),
    ]);
    expect(messages.join('\n')).not.toContain('hunter2');
  });
});
