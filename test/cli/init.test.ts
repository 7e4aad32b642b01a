import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashToken } from '../../src/auth/tokens.js';
import { FILE_KEYS, loadConfig } from '../../src/config/config.js';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { repoRoot } from '../support/captures.js';
import { runCli } from '../support/cli-process.js';

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'dialguard-init-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const init = (args: string[] = [], env: Record<string, string> = {}) => runCli(['init', ...args], { cwd: dir, env });

async function tokensOf(db: string) {
  const store = createSqliteStore({ path: db, mustExist: true });
  try {
    return store.listTokens();
  } finally {
    await store.close();
  }
}

describe('dialguard init', () => {
  it('writes a commented config file with every default, creates the database and prints the first admin token once', async () => {
    const config = join(dir, 'etc', 'dialguard.conf');
    const db = join(dir, 'state', 'dialguard.db');
    const r = await init(['--config', config, '--db', db], { DIALGUARD_HTTP_LISTEN: '127.0.0.1:9380' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);

    const text = readFileSync(config, 'utf8');
    expect(statSync(config).mode & 0o777).toBe(0o640);
    expect(text).toMatch(/^\/\/ dialguard configuration, written by dialguard init on \d{4}-\d\d-\d\dT/);
    // Every setting's line is preceded by a comment naming its environment variable.
    const lines = text.split('\n');
    const settings = lines.filter((l) => /^\s*(\/\/ )?"\w+":/.test(l) && !l.endsWith('{'));
    for (const key of FILE_KEYS) expect(text).toContain(`"${key}": `);
    for (const line of settings) {
      const comment = lines[lines.indexOf(line) - 1] ?? '';
      expect(comment, line).toMatch(/^\s*\/\/ .+ env DIALGUARD_[A-Z_]+/);
    }
    // Read by the loader serve uses, the file gives the embedded defaults, with this database.
    const loaded = loadConfig({ env: {}, configFile: config });
    const defaults = loadConfig({ env: { DIALGUARD_TIMEZONE: loaded.timezone } });
    expect(loaded).toEqual({ ...defaults, dbPath: db });

    const [token] = r.stdout.match(/dg_[A-Za-z0-9_-]{43}/g) ?? [];
    expect(r.stdout.match(/dg_[A-Za-z0-9_-]{43}/g)).toHaveLength(1);
    expect(r.stdout).toContain(`dialguard admin token (shown only this once, only its hash is stored): ${token}`);
    const tokens = await tokensOf(db);
    expect(tokens).toEqual([expect.objectContaining({ name: 'admin', role: 'admin', hash: hashToken(token as string) })]);
    expect(JSON.stringify(tokens)).not.toContain(token);

    // The next steps name this installation's files and this configuration's addresses.
    const dialplan = join(repoRoot, 'dialplan', 'extensions-dialguard.conf');
    expect(existsSync(dialplan)).toBe(true);
    expect(r.stdout).toContain(`1. Asterisk dialplan: copy ${dialplan} to /etc/asterisk/,`);
    expect(r.stdout).toContain('#include "extensions-dialguard.conf"');
    expect(r.stdout).toContain('[dialguard-outbound]');
    expect(r.stdout).toContain('     dialout=dialguard-vm-dialout\n     callback=dialguard-vm-dialout\n');
    expect(r.stdout).toContain(`3. Run it: dialguard --config ${config} serve`);
    expect(r.stdout).toContain(join(repoRoot, 'deploy', 'systemd', 'dialguard.service'));
    expect(r.stdout).toContain('dialguard init --config /etc/dialguard/dialguard.conf --db /var/lib/dialguard/dialguard.db');
    expect(r.stdout).toContain('4. Dashboard: http://127.0.0.1:9380/ (sign in with the admin token).');
    expect(r.stdout).toContain(`5. Check everything: dialguard --config ${config} doctor`);
  });

  it('leaves valid JSON when every commented-out example is turned on, and each of them is read', async () => {
    const config = join(dir, 'dialguard.conf');
    expect((await init(['--config', config, '--db', join(dir, 'dialguard.db')])).status).toBe(0);
    const all = readFileSync(config, 'utf8').replace(/^(\s*)\/\/ (")/gm, '$1$2');
    writeFileSync(config, all);
    const c = loadConfig({ env: {}, configFile: config });
    expect(c.agiAllowFrom).toEqual(['127.0.0.1', '10.0.0.0/8']);
    expect(c.geoipPath).toBe('/var/lib/GeoIP/GeoLite2-Country.mmdb');
    expect(c.adminToken).toBe('a-long-random-token-of-your-own');
    expect(c.ari).toMatchObject({ url: 'http://127.0.0.1:8088', user: 'dialguard', app: 'dialguard' });
    expect(c.alerts).toMatchObject({ webhooks: ['https://hooks.example.com/dialguard'], secret: 'a-long-random-secret' });
    expect(c.alerts.mail).toMatchObject({ secure: true, host: 'smtp.example.com', port: 465, auth: { user: 'alerts@example.com' }, to: ['pbx-admin@example.com'] });
  });

  it('refuses to overwrite an existing file unless --force, and never makes a second admin token', async () => {
    const config = join(dir, 'dialguard.conf');
    const db = join(dir, 'dialguard.db');
    writeFileSync(config, '{"homeCountry": "GB"}');
    const refused = await init(['--config', config, '--db', db]);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain(`dialguard: ${config} exists already: not overwritten (dialguard init --force replaces it)`);
    expect(readFileSync(config, 'utf8')).toBe('{"homeCountry": "GB"}');
    expect(existsSync(db)).toBe(false);

    expect((await init(['--config', config, '--db', db, '--force'])).status).toBe(0);
    expect(readFileSync(config, 'utf8')).toContain('"homeCountry": "US"');
    const again = await init(['--config', config, '--db', db, '--force']);
    expect(again.status).toBe(0);
    expect(again.stdout).not.toMatch(/dg_[A-Za-z0-9_-]{43}/);
    expect(again.stdout).toContain('the database has an admin token already');
    expect(await tokensOf(db)).toHaveLength(1);
  });

  it('names the ARI dialplan when ARI is configured, and the FastAGI address when it is not the default', async () => {
    const r = await init(['--config', join(dir, 'dialguard.conf'), '--db', join(dir, 'dialguard.db')], {
      DIALGUARD_ARI_URL: 'http://127.0.0.1:8088',
      DIALGUARD_AGI_LISTEN: '0.0.0.0:4600',
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`copy ${join(repoRoot, 'dialplan', 'extensions-dialguard-ari.conf')} to /etc/asterisk/`);
    expect(r.stdout).toContain('[dialguard-outbound-ari]');
    expect(r.stdout).toContain('dialout=dialguard-vm-dialout-ari');
    expect(r.stdout).toContain("DIALGUARD_AGI=agi://127.0.0.1:4600 (or this machine's address, when Asterisk runs elsewhere)");
  });

  it('takes DIALGUARD_CONFIG, else ./dialguard.conf', async () => {
    expect((await init([], { DIALGUARD_DB: join(dir, 'a.db') })).status).toBe(0);
    expect(existsSync(join(dir, 'dialguard.conf'))).toBe(true);
    expect((await init([], { DIALGUARD_DB: join(dir, 'b.db'), DIALGUARD_CONFIG: join(dir, 'other.conf') })).status).toBe(0);
    expect(existsSync(join(dir, 'other.conf'))).toBe(true);
  });
});
