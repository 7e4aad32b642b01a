import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli-process.js';
import { needPostgres, usePostgresDatabase } from '../support/postgres.js';

/** `dialguard init` and `dialguard doctor` with DIALGUARD_DB a postgres:// URL: they work on it, and never print its password. */
describe.runIf(await needPostgres())('the commands on PostgreSQL', () => {
  const database = usePostgresDatabase();
  let dir: string;
  let password: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'dialguard-pg-cli-'));
    password = new URL(database.url).password;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('init writes the URL as given into the config, prepares the database, and shows it without the password', async () => {
    const config = join(dir, 'dialguard.conf');
    const r = await runCli(['init', '--config', config, '--db', database.url], { cwd: dir, env: { DIALGUARD_TIMEZONE: 'America/New_York' } });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(readFileSync(config, 'utf8')).toContain(`"db": ${JSON.stringify(database.url)}`);
    const redacted = new URL(database.url);
    redacted.password = '***';
    expect(r.stdout).toContain(`dialguard: database ${redacted.toString()} ready (schema up to date)`);
    expect(r.stdout).not.toContain(password);
  });

  it('doctor checks the database and shows it without the password', async () => {
    const r = await runCli(['doctor', '--json'], { cwd: dir, env: { DIALGUARD_DB: database.url, DIALGUARD_TIMEZONE: 'America/New_York' } });
    const report = JSON.parse(r.stdout) as { checks: Array<{ name: string; verdict: string; detail: string }> };
    expect(report.checks.find((c) => c.name === 'database')).toMatchObject({ verdict: 'ok', detail: expect.stringContaining(':***@') });
    expect(r.stdout + r.stderr).not.toContain(password);
  });
});
