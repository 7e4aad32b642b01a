import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'dialguard-config-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const file = (content: unknown): string => {
  const path = join(dir, 'dialguard.json');
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
};

describe('configuration', () => {
  it('runs on embedded defaults with nothing set', () => {
    const c = loadConfig({ env: { DIALGUARD_TIMEZONE: 'UTC' } });
    expect(c).toMatchObject({
      agiListen: { host: '127.0.0.1', port: 4573 },
      httpListen: { host: '127.0.0.1', port: 8380 },
      dbPath: './data/dialguard.db',
      homeCountry: 'US',
      answerDeadlineMs: 500,
      agiAllowFrom: null,
      ari: null,
      adminToken: null,
    });
  });

  it('the environment wins over the file, and --db over both', () => {
    const configFile = file({ homeCountry: 'GB', db: '/from/file.db', agiListen: '0.0.0.0:4573', agiAllowFrom: ['10.0.0.0/8'] });
    const c = loadConfig({ env: { DIALGUARD_HOME_COUNTRY: 'de', DIALGUARD_TIMEZONE: 'UTC' }, configFile, flags: { db: '/from/flag.db' } });
    expect(c).toMatchObject({ homeCountry: 'DE', dbPath: '/from/flag.db', agiListen: { host: '0.0.0.0', port: 4573 }, agiAllowFrom: ['10.0.0.0/8'] });
  });

  it('sets the FastAGI listen backlog: 4096 by default, from the environment or the file', () => {
    expect(loadConfig({ env: { DIALGUARD_TIMEZONE: 'UTC' } }).agiBacklog).toBe(4096);
    expect(loadConfig({ env: { DIALGUARD_TIMEZONE: 'UTC', DIALGUARD_AGI_BACKLOG: '8192' } }).agiBacklog).toBe(8192);
    expect(loadConfig({ env: { DIALGUARD_TIMEZONE: 'UTC' }, configFile: file({ agiBacklog: 1024 }) }).agiBacklog).toBe(1024);
    expect(() => loadConfig({ env: { DIALGUARD_TIMEZONE: 'UTC', DIALGUARD_AGI_BACKLOG: '0' } })).toThrow(/DIALGUARD_AGI_BACKLOG="0" must be a positive whole number/);
  });

  it('reads IPv6 listen addresses and a comma-separated allow list', () => {
    const c = loadConfig({ env: { DIALGUARD_AGI_LISTEN: '[::1]:4573', DIALGUARD_AGI_ALLOW: '192.0.2.10, 2001:db8::/32', DIALGUARD_TIMEZONE: 'UTC' } });
    expect(c.agiListen).toEqual({ host: '::1', port: 4573 });
    expect(c.agiAllowFrom).toEqual(['192.0.2.10', '2001:db8::/32']);
  });

  it.each([
    [{ DIALGUARD_HOME_COUNTRY: 'XX' }, /^DIALGUARD_HOME_COUNTRY="XX" is not an ISO 3166/],
    [{ DIALGUARD_TIMEZONE: 'Mars/Olympus' }, /^DIALGUARD_TIMEZONE="Mars\/Olympus" is not an IANA time zone$/],
    [{ DIALGUARD_LOG_LEVEL: 'verbose' }, /^DIALGUARD_LOG_LEVEL="verbose" is not a log level/],
    [{ DIALGUARD_AGI_LISTEN: 'localhost' }, /DIALGUARD_AGI_LISTEN="localhost" is not HOST:PORT/],
    [{ DIALGUARD_ANSWER_DEADLINE_MS: '-5' }, /DIALGUARD_ANSWER_DEADLINE_MS="-5" must be a positive whole number/],
  ])('refuses %j with a clear message', (env, message) => {
    expect(() => loadConfig({ env: { DIALGUARD_TIMEZONE: 'UTC', ...env } })).toThrow(message);
  });

  it('refuses an unknown key or bad JSON in the file, naming the file', () => {
    expect(() => loadConfig({ env: {}, configFile: file({ homeCountry: 'US', agiListn: 'x' }) })).toThrow(/^--config: the config file .*dialguard\.json has unknown key\(s\) agiListn$/);
    expect(() => loadConfig({ env: { DIALGUARD_CONFIG: file('{ "homeCountry": ') } })).toThrow(/^DIALGUARD_CONFIG: the config file .*dialguard\.json is not valid JSON/);
  });

  it('reads a file whose lines may be // comments, and keeps // inside values', () => {
    const configFile = file('// written by dialguard init\n{\n  // FastAGI\n  "agiListen": "127.0.0.1:4600",\n    // "db": "/commented/out.db",\n  "ari": { "url": "http://127.0.0.1:8088" }\n}\n');
    const c = loadConfig({ env: { DIALGUARD_TIMEZONE: 'UTC' }, configFile });
    expect(c).toMatchObject({ agiListen: { port: 4600 }, dbPath: './data/dialguard.db', ari: { url: 'http://127.0.0.1:8088' } });
    // A comment after a value is not one: only whole lines are.
    expect(() => loadConfig({ env: {}, configFile: file('{\n  "homeCountry": "US" // home\n}') })).toThrow(/not valid JSON: Expected ',' or '}' after property value/);
  });

  it('ARI is on only when its URL is set, with the app name defaulting to dialguard', () => {
    const c = loadConfig({ env: { DIALGUARD_ARI_URL: 'http://127.0.0.1:8088', DIALGUARD_ARI_USER: 'dg', DIALGUARD_ARI_PASSWORD: 'secret', DIALGUARD_TIMEZONE: 'UTC' } });
    expect(c.ari).toEqual({ url: 'http://127.0.0.1:8088', user: 'dg', password: 'secret', app: 'dialguard' });
  });

  it('keeps 400 days of audit by default; the file or DIALGUARD_AUDIT_RETENTION_DAYS changes it, 0 keeps it forever', () => {
    expect(loadConfig({ env: { DIALGUARD_TIMEZONE: 'UTC' } }).auditRetentionDays).toBe(400);
    expect(loadConfig({ env: { DIALGUARD_TIMEZONE: 'UTC' }, configFile: file({ auditRetentionDays: 90 }) }).auditRetentionDays).toBe(90);
    expect(loadConfig({ env: { DIALGUARD_TIMEZONE: 'UTC', DIALGUARD_AUDIT_RETENTION_DAYS: '0' }, configFile: file({ auditRetentionDays: 90 }) }).auditRetentionDays).toBe(0);
    for (const bad of ['-1', '1.5', 'forever', '36501']) {
      expect(() => loadConfig({ env: { DIALGUARD_TIMEZONE: 'UTC', DIALGUARD_AUDIT_RETENTION_DAYS: bad } })).toThrow(`DIALGUARD_AUDIT_RETENTION_DAYS="${bad}" must be a whole number of days from 0 (keep forever) to 36500`);
    }
  });

  it('reads DIALGUARD_AMI_URL (user and secret percent-encoded, port 5038 by default) and DIALGUARD_SECURITY_LOG, or the file keys', () => {
    const env = { DIALGUARD_TIMEZONE: 'UTC' };
    expect(loadConfig({ env })).toMatchObject({ ami: null, securityLog: null });
    expect(loadConfig({ env: { ...env, DIALGUARD_AMI_URL: 'tcp://dg%40pbx:s%3Acret%2F1@127.0.0.1:5039' } }).ami).toEqual({ host: '127.0.0.1', port: 5039, user: 'dg@pbx', secret: 's:cret/1' });
    expect(loadConfig({ env: { ...env, DIALGUARD_AMI_URL: 'tcp://dg:pw@[::1]' } }).ami).toEqual({ host: '::1', port: 5038, user: 'dg', secret: 'pw' });
    const configFile = file({ amiUrl: 'tcp://dg:pw@10.0.0.5:5038', securityLog: '/var/log/asterisk/security' });
    expect(loadConfig({ env, configFile })).toMatchObject({ ami: { host: '10.0.0.5', user: 'dg' }, securityLog: '/var/log/asterisk/security' });
    expect(loadConfig({ env: { ...env, DIALGUARD_SECURITY_LOG: '/tmp/security' }, configFile }).securityLog).toBe('/tmp/security');
  });

  it('refuses a bad DIALGUARD_AMI_URL in one sentence that never shows the secret', () => {
    const cases: Array<[string, RegExp]> = [
      ['http://dg:TOPSECRET@127.0.0.1:5038', /^DIALGUARD_AMI_URL: "http:\/\/127\.0\.0\.1:5038" is not tcp:\/\/USER:SECRET@HOST:PORT/],
      ['127.0.0.1:5038', /^DIALGUARD_AMI_URL: ".*" is not tcp:\/\/USER:SECRET@HOST:PORT/],
      ['tcp://127.0.0.1:5038', /^DIALGUARD_AMI_URL: "tcp:\/\/@127\.0\.0\.1:5038" has no user or no secret/],
      ['tcp://dg@127.0.0.1:5038', /has no user or no secret/],
      ['tcp://dg:TOPSECRET@127.0.0.1:5038/manager', /^DIALGUARD_AMI_URL: "tcp:\/\/dg@127\.0\.0\.1:5038\/…" .*no path or query$/],
      ['tcp://dg:TOPSECRET@127.0.0.1:99999', /is not tcp:\/\/USER:SECRET@HOST:PORT/],
      ['tcp://dg:TOP%zzSECRET@127.0.0.1:5038', /is not percent-encoded UTF-8$/],
    ];
    for (const [url, message] of cases) {
      let error: unknown;
      try {
        loadConfig({ env: { DIALGUARD_TIMEZONE: 'UTC', DIALGUARD_AMI_URL: url } });
      } catch (err) {
        error = err;
      }
      expect((error as Error | undefined)?.message, url).toMatch(message);
      expect((error as Error).message).not.toContain('TOPSECRET');
      expect((error as Error).message).not.toContain('\n');
    }
  });
});
