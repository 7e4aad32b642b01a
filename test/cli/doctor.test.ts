import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureAdminToken } from '../../src/auth/tokens.js';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { until } from '../ari/fixture.js';
import { startAsteriskAmi } from '../support/asterisk-ami.js';
import { startAsteriskAri, type AsteriskAri } from '../support/asterisk-ari.js';
import { runCli, type CliRun } from '../support/cli-process.js';
import { mmdbBuiltAt } from '../support/mmdb.js';
import { startServe, type ServeProcess } from '../support/serve-process.js';
import { startSmtpServer, type SmtpServer } from '../support/smtp.js';

/** `dialguard doctor` as a real process against real files, a real `serve`, the ARI double and a real SMTP server. */

const TLS_DIR = resolve(import.meta.dirname, '../support/tls');
const CERT = join(TLS_DIR, '127.0.0.1.cert.pem');
const SMTP_PASSWORD = 'doctor-smtp-secret';

let dir: string;
let db: string;
const cleanups: Array<() => Promise<unknown>> = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dialguard-doctor-'));
  db = join(dir, 'dialguard.db');
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  rmSync(dir, { recursive: true, force: true });
});

interface Report {
  ok: boolean;
  checks: Array<{ name: string; verdict: string; detail: string }>;
}

async function doctor(env: Record<string, string>, args: string[] = []): Promise<CliRun & { report: Report; verdicts: Record<string, string> }> {
  const run = await runCli(['doctor', '--json', ...args], { cwd: dir, env: { DIALGUARD_DB: db, DIALGUARD_TIMEZONE: 'America/New_York', ...env } });
  const report = JSON.parse(run.stdout) as Report;
  return { ...run, report, verdicts: Object.fromEntries(report.checks.map((c) => [c.name, c.verdict])) };
}
const detail = (report: Report, name: string): string => report.checks.find((c) => c.name === name)?.detail ?? '';

/** What init leaves: a migrated database with an admin token (made here, in-process: one CLI start less per test). */
async function initDatabase(): Promise<void> {
  const store = createSqliteStore({ path: db });
  ensureAdminToken(store, null);
  await store.close();
}

async function serve(env: Record<string, string> = {}): Promise<{ guard: ServeProcess; env: Record<string, string> }> {
  const guard = await startServe(db, env);
  cleanups.push(() => guard.stop());
  return { guard, env: { ...env, DIALGUARD_AGI_LISTEN: `127.0.0.1:${guard.agiPort}`, DIALGUARD_HTTP_LISTEN: `127.0.0.1:${guard.httpPort}` } };
}

/** Ports nothing listens on. */
async function closedPorts(): Promise<Record<string, string>> {
  const s = await startSmtpServer();
  const t = await startSmtpServer();
  await s.close();
  await t.close();
  return { DIALGUARD_AGI_LISTEN: `127.0.0.1:${s.port}`, DIALGUARD_HTTP_LISTEN: `127.0.0.1:${t.port}` };
}

describe('dialguard doctor', () => {
  it('passes on a running guard with ARI, AMI and alert mail configured, one line per check', async () => {
    await initDatabase();
    const asterisk: AsteriskAri = await startAsteriskAri({ user: 'dialguard', password: 'ari-secret' });
    cleanups.push(() => asterisk.close());
    // No events after the login: the captured break-in would make serve mail a takeover alert, and
    // this test holds that the doctor sends nothing.
    const ami = await startAsteriskAmi({ user: 'dgsec', secret: 'ami-secret', afterLogin: () => [] });
    cleanups.push(() => ami.close());
    const smtp: SmtpServer = await startSmtpServer({ user: 'alerts', password: SMTP_PASSWORD, tls: { key: readFileSync(join(TLS_DIR, '127.0.0.1.key.pem'), 'utf8'), cert: readFileSync(CERT, 'utf8') } });
    cleanups.push(() => smtp.close());
    const site = {
      DIALGUARD_ARI_URL: asterisk.url,
      DIALGUARD_ARI_USER: 'dialguard',
      DIALGUARD_ARI_PASSWORD: 'ari-secret',
      DIALGUARD_ALERT_SMTP: `smtps://alerts:${SMTP_PASSWORD}@127.0.0.1:${smtp.port}`,
      DIALGUARD_ALERT_MAIL_TO: 'pbx-admin@example.com',
      DIALGUARD_AMI_URL: ami.url(),
      NODE_EXTRA_CA_CERTS: CERT,
    };
    const { env } = await serve(site);
    await asterisk.waitForConnection('dialguard');
    await until(() => ami.logins.length === 1, 10_000, 'serve logged in to AMI');

    // The lines a person reads; --json (the other tests) carries the same checks.
    const r = await runCli(['doctor', '--geoip-max-age', '3650'], { cwd: dir, env: { DIALGUARD_DB: db, DIALGUARD_TIMEZONE: 'America/New_York', ...env } });
    expect(r.stderr).toBe('');
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.map((l) => l.slice(0, 17))).toEqual([
      'ok    config     ',
      'ok    database   ',
      'ok    geoip      ',
      'ok    locale     ',
      'ok    fastagi    ',
      'ok    admin-api  ',
      'ok    ari        ',
      'ok    ami        ',
      'ok    mail       ',
      'ok    clock      ',
    ]);
    expect(r.status).toBe(0);
    const line = (name: string): string => lines.find((l) => l.slice(6).startsWith(`${name} `))?.slice(17) ?? '';
    expect(line('fastagi')).toMatch(/^127\.0\.0\.1:\d+ accepts TCP connections from this machine/);
    expect(line('admin-api')).toMatch(/is dialguard, ready \(database, agi, ari\)/);
    expect(line('ari')).toBe(`${asterisk.url} accepts user "dialguard" (an authenticated GET /ari/api-docs/resources.json listed the ARI resources)`);
    expect(line('mail')).toBe(`smtps://127.0.0.1:${smtp.port} accepts the login of alerts (nothing sent); alerts go to pbx-admin@example.com`);
    expect(line('locale')).toMatch(/^home country US \(United States, \+1\), time zone America\/New_York \(UTC-0[45]:00 now\)$/);
    expect(line('config')).toContain('DIALGUARD_ALERT_SMTP');
    expect(line('ami')).toBe(`tcp://dgsec@127.0.0.1:${ami.port} accepts user "dgsec" (Asterisk Call Manager/11.0.0; logged in and off; give it read = security in manager.conf)`);
    // The doctor's login asked for no events; serve's (the first) asked for security events.
    expect(ami.logins.map((l) => l.fields.get('events'))).toEqual(['security', 'off']);
    expect(smtp.received).toHaveLength(0);
    // The environment's secrets are named, never shown.
    expect(r.stdout).not.toContain(SMTP_PASSWORD);
    expect(r.stdout).not.toContain('ari-secret');
    expect(r.stdout).not.toContain('ami-secret');
  });

  it('fails when no guard runs: nothing listens on FastAGI or the admin API (exit 1)', async () => {
    await initDatabase();
    const r = await doctor(await closedPorts());
    expect(r.status).toBe(1);
    expect(r.report.ok).toBe(false);
    expect(r.verdicts).toMatchObject({ config: 'ok', database: 'ok', fastagi: 'fail', 'admin-api': 'fail', ari: 'skip', mail: 'skip' });
    expect(detail(r.report, 'fastagi')).toMatch(/nothing listens \(ECONNREFUSED\): is dialguard serve running/);
  });

  it('fails FastAGI when the guard accepts and drops this machine (not in DIALGUARD_AGI_ALLOW)', async () => {
    await initDatabase();
    const { env } = await serve({ DIALGUARD_AGI_ALLOW: '192.0.2.10' });
    const r = await doctor(env);
    expect(r.verdicts.fastagi).toBe('fail');
    expect(detail(r.report, 'fastagi')).toMatch(/accepted and closed at once: this machine is not in DIALGUARD_AGI_ALLOW/);
    expect(r.verdicts['admin-api']).toBe('ok');
  });

  it('fails the database check when there is none, and creates none', async () => {
    const r = await doctor(await closedPorts());
    expect(r.verdicts.database).toBe('fail');
    expect(detail(r.report, 'database')).toBe(`DIALGUARD_DB: no database at ${db} (dialguard init creates one)`);
    expect(existsSync(db)).toBe(false);
  });

  it('fails the database check when it cannot be written: another process holds the write lock', async () => {
    await initDatabase();
    const holder = new Database(db);
    holder.exec('BEGIN IMMEDIATE');
    cleanups.push(async () => {
      holder.exec('ROLLBACK');
      holder.close();
    });
    const r = await doctor(await closedPorts());
    expect(r.verdicts.database).toBe('fail');
    expect(detail(r.report, 'database')).toContain(db);
  });

  it('fails the configuration and skips the rest when it does not load', async () => {
    const config = join(dir, 'broken.conf');
    writeFileSync(config, '{ "homeCountry": ');
    const r = await doctor({}, ['--config', config]);
    expect(r.status).toBe(1);
    expect(r.report.checks[0]).toMatchObject({ name: 'config', verdict: 'fail', detail: expect.stringMatching(/broken\.conf is not valid JSON/) });
    expect(r.report.checks.slice(1).every((c) => c.verdict === 'skip')).toBe(true);
    const country = await doctor({ DIALGUARD_HOME_COUNTRY: 'XX' });
    expect(country.report.checks[0]).toMatchObject({ verdict: 'fail', detail: expect.stringMatching(/"XX" is not an ISO 3166 alpha-2 code/) });
  });

  it('warns about a UTC time zone and an old GeoIP database; warnings do not fail', async () => {
    await initDatabase();
    const old = mmdbBuiltAt(join(dir, 'old.mmdb'), new Date(Date.now() - 90 * 86_400_000));
    const { env } = await serve();
    const r = await doctor({ ...env, DIALGUARD_TIMEZONE: 'UTC', DIALGUARD_GEOIP_DB: old });
    expect(r.verdicts).toMatchObject({ geoip: 'warn', locale: 'warn', fastagi: 'ok', 'admin-api': 'ok' });
    expect(detail(r.report, 'geoip')).toMatch(new RegExp(`^${old}: built \\d{4}-\\d\\d-\\d\\d, 90 days ago \\(over 60\\): update it`));
    expect(detail(r.report, 'locale')).toMatch(/schedules and budget days follow UTC/);
    expect(r.status).toBe(0);
  });

  it('fails the clock when it is before a GeoIP build date, and reads NTP from timedatectl', async () => {
    const future = mmdbBuiltAt(join(dir, 'future.mmdb'), new Date(Date.now() + 400 * 86_400_000));
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    const fake = join(bin, 'timedatectl');
    writeFileSync(fake, '#!/bin/sh\n[ "$*" = "show --property=NTPSynchronized --value" ] && echo no\n');
    chmodSync(fake, 0o755);
    const ports = await closedPorts();
    const early = await doctor({ ...ports, DIALGUARD_GEOIP_DB: future });
    expect(early.verdicts.clock).toBe('fail');
    expect(detail(early.report, 'clock')).toMatch(new RegExp(`before the GeoIP database ${future} was built`));

    const unsynced = await doctor({ ...ports, PATH: `${bin}:${process.env.PATH}` });
    expect(unsynced.verdicts.clock).toBe('warn');
    expect(detail(unsynced.report, 'clock')).toMatch(/NTP not synchronised/);
    const unknown = await doctor({ ...ports, PATH: '/nonexistent' });
    expect(unknown.verdicts.clock).toBe('ok');
    expect(detail(unknown.report, 'clock')).toMatch(/NTP state unknown \(timedatectl: no timedatectl\)/);
  });

  it('fails ARI, AMI and mail with a wrong password or a refused login, never printing any', async () => {
    const ami = await startAsteriskAmi({ user: 'dialguard', secret: 'the-right-one' });
    cleanups.push(() => ami.close());
    const asterisk = await startAsteriskAri({ user: 'dialguard', password: 'the-right-one' });
    cleanups.push(() => asterisk.close());
    const smtp = await startSmtpServer({ user: 'alerts', password: 'right-smtp', tls: { key: readFileSync(join(TLS_DIR, '127.0.0.1.key.pem'), 'utf8'), cert: readFileSync(CERT, 'utf8') } });
    cleanups.push(() => smtp.close());
    const r = await doctor({
      ...(await closedPorts()),
      DIALGUARD_ARI_URL: asterisk.url,
      DIALGUARD_ARI_USER: 'dialguard',
      DIALGUARD_ARI_PASSWORD: 'wrong-ari-pw',
      DIALGUARD_ALERT_SMTP: `smtps://alerts:wrong-smtp-pw@127.0.0.1:${smtp.port}`,
      DIALGUARD_ALERT_MAIL_TO: 'pbx-admin@example.com',
      DIALGUARD_AMI_URL: ami.url('dialguard', 'ami-pw'),
      NODE_EXTRA_CA_CERTS: CERT,
    });
    expect(r.verdicts).toMatchObject({ ari: 'fail', mail: 'fail', ami: 'fail' });
    expect(detail(r.report, 'ari')).toMatch(/HTTP 401 .*: Asterisk refused user "dialguard": check DIALGUARD_ARI_USER and DIALGUARD_ARI_PASSWORD against ari\.conf$/);
    expect(detail(r.report, 'mail')).toMatch(/^smtps:\/\/127\.0\.0\.1:\d+: refused the login \(535 /);
    expect(detail(r.report, 'ami')).toBe(
      `tcp://dialguard@127.0.0.1:${ami.port}: Authentication failed: Asterisk refused user "dialguard": check the user and secret of DIALGUARD_AMI_URL against manager.conf, and its permit/deny for this address`,
    );
    expect(smtp.refusedLogins).toBe(1);
    for (const secret of ['wrong-ari-pw', 'wrong-smtp-pw', 'ami-pw']) expect(r.stdout).not.toContain(secret);
  });
});
