import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { openGeoIp } from '../../src/geo/geoip.js';
import { createGuard } from '../../src/guard/guard.js';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.js';

const root = resolve(import.meta.dirname, '../..');

/** Runs `dialguard ARGS` in-process against the test's database; returns status and output. */
async function dialguard(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const status = await main(['--db', db, ...args], { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { status, stdout: out.join('\n'), stderr: err.join('\n') };
}

let dir: string;
let db: string;

/** The guard `serve` would run on the test's database (US site, New York time). */
function openGuard(path: string) {
  const store = createSqliteStore({ path });
  return { store, guard: createGuard({ store, homeCountry: 'US', timezone: 'America/New_York', geoip: openGeoIp() }) };
}
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dialguard-cli-'));
  db = join(dir, 'dialguard.db');
  process.env.DIALGUARD_TIMEZONE = 'America/New_York';
  process.env.DIALGUARD_HOME_COUNTRY = 'US';
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
  delete process.env.DIALGUARD_TIMEZONE;
  delete process.env.DIALGUARD_HOME_COUNTRY;
});

async function checkJson(...args: string[]) {
  const r = await dialguard('check', '--json', ...args);
  return { status: r.status, decision: JSON.parse(r.stdout) as Record<string, unknown> };
}

describe('dialguard check: the attacks of the design, on the embedded defaults', () => {
  it('a hacked extension dialling a high-risk country from abroad is denied', async () => {
    // A site that lets 1001 call anywhere still does not reach Cuba, and the German source is refused too.
    writeFileSync(join(dir, 'p.json'), JSON.stringify({ extensions: { '1001': { destinations: { allowCountries: ['*'] } } } }));
    expect((await dialguard('policy', 'import', join(dir, 'p.json'))).status).toBe(0);
    const { status, decision } = await checkJson('--ext', '1001', '--number', '0115352123456', '--source', '80.128.0.1:5060');
    expect(status).toBe(1);
    expect(decision).toMatchObject({ result: 'DENY', reason: 'destination_high_risk', country: 'CU', limitMs: 0 });
  });

  it('a voicemail dial-out is denied', async () => {
    const { status, decision } = await checkJson('--ext', '1001', '--number', '12125550123', '--source', '10.0.0.5:5060', '--origin', 'voicemail');
    expect(status).toBe(1);
    expect(decision.reason).toBe('voicemail_callout_denied');
  });

  it('a premium-rate number is denied', async () => {
    const { decision } = await checkJson('--ext', '1001', '--number', '19002345678', '--source', '10.0.0.5:5060');
    expect(decision).toMatchObject({ reason: 'destination_type_denied', numberType: 'PREMIUM_RATE' });
  });

  it('a weekend international call outside the schedule is denied', async () => {
    writeFileSync(
      join(dir, 'p.json'),
      JSON.stringify({
        defaults: {
          destinations: { allowCountries: ['US', 'GB'] },
          schedule: { timezone: 'America/New_York', appliesTo: 'international', windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '08:00', to: '18:00' }] },
        },
      }),
    );
    await dialguard('policy', 'import', join(dir, 'p.json'));
    const saturday = await checkJson('--ext', '1001', '--number', '011442079460000', '--source', '10.0.0.5:5060', '--at', '2026-11-21T03:12:00-05:00');
    expect(saturday.decision.reason).toBe('outside_schedule');
    const tuesday = await checkJson('--ext', '1001', '--number', '011442079460000', '--source', '10.0.0.5:5060', '--at', '2026-11-17T10:00:00-05:00');
    expect(tuesday).toMatchObject({ status: 0, decision: { result: 'ALLOW', country: 'GB' } });
  });

  it('an Iridium satellite number is denied as a satellite number, not for a country it does not have', async () => {
    const { status, decision } = await checkJson('--ext', '1001', '--number', '011881612345678', '--source', '10.0.0.5:5060');
    expect(status).toBe(1);
    expect(decision).toMatchObject({
      result: 'DENY',
      reason: 'destination_type_denied',
      message: 'Call to satellite number +881612345678 denied: this type of number is not allowed',
      e164: '+881612345678',
      country: null,
      numberType: 'SATELLITE',
    });
    const text = await dialguard('check', '--ext', '1001', '--number', '011883510012345678', '--source', '10.0.0.5:5060');
    expect(text.stdout.split('\n')[0]).toBe('DENY destination_type_denied: Call to international network number +883510012345678 denied: this type of number is not allowed');
  });

  it('911 is allowed with reason emergency, from a locked-down foreign source', async () => {
    const { status, decision } = await checkJson('--ext', '1001', '--number', '911', '--source', '80.128.0.1:5060');
    expect(status).toBe(0);
    expect(decision).toMatchObject({ result: 'ALLOW', reason: 'emergency' });
  });

  it('prints the fields tools rely on', async () => {
    const { decision } = await checkJson('--ext', '1001', '--number', '2125550123', '--source', '10.0.0.5:5060');
    for (const key of ['result', 'reason', 'message', 'limitMs', 'e164', 'country', 'numberType', 'checks']) expect(decision).toHaveProperty(key);
    expect(decision).toMatchObject({ result: 'ALLOW', e164: '+12125550123', limitMs: 3_600_000 });
  });
});

describe('dialguard usage errors', () => {
  it('exits 2 with a clear message for a missing --number', async () => {
    const r = await dialguard('check', '--ext', '1001');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--number is required');
  });

  it('exits 2 for a bad --at', async () => {
    const r = await dialguard('check', '--ext', '1001', '--number', '911', '--at', 'yesterday');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('ISO-8601');
  });

  it('exits 2 for an unknown command', async () => {
    expect((await dialguard('frobnicate')).status).toBe(2);
  });
});

describe('dialguard policy import and export', () => {
  it('an invalid import names the field and leaves the previous policy untouched', async () => {
    writeFileSync(join(dir, 'good.json'), JSON.stringify({ extensions: { '1001': { budget: { dailySpend: 5 } } } }));
    await dialguard('policy', 'import', join(dir, 'good.json'));
    const before = (await dialguard('policy', 'export')).stdout;

    writeFileSync(
      join(dir, 'bad.json'),
      JSON.stringify({ defaults: { budget: { dailySpend: 1 } }, extensions: { '1001': { geofence: { allowCidrs: ['10.0.0.0/33'] } } } }),
    );
    const r = await dialguard('policy', 'import', join(dir, 'bad.json'));
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('/extensions/1001/geofence/allowCidrs/0');
    expect((await dialguard('policy', 'export')).stdout).toBe(before);
  });

  it.each([
    ['a rate', '{"rates":[{"prefix":"+","perMinute":1.797e308,"increment":60}]}', '/rates/0/perMinute'],
    ['a default budget', '{"defaults":{"budget":{"dailySpend":1.797e308}}}', '/defaults/budget/dailySpend'],
    ["an extension's budget", '{"extensions":{"1001":{"budget":{"monthlySpend":1.797e308}}}}', '/extensions/1001/budget/monthlySpend'],
    ['a longest call', '{"defaults":{"budget":{"maxCallSeconds":1.797e308}}}', '/defaults/budget/maxCallSeconds'],
  ])('refuses 1.797e308 as %s, naming the field, and imports nothing', async (_what, text, field) => {
    const before = (await dialguard('policy', 'export')).stdout;
    writeFileSync(join(dir, 'huge.json'), text);
    const r = await dialguard('policy', 'import', join(dir, 'huge.json'));
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${field}: `);
    expect(r.stderr).toContain('at most');
    expect((await dialguard('policy', 'export')).stdout).toBe(before);
    const { decision } = await checkJson('--ext', '1001', '--number', '2125550123', '--source', '10.0.0.5:5060');
    expect(decision).toMatchObject({ result: 'ALLOW', limitMs: 3_600_000 });
  });

  it('refuses a document nested 5,000 deep with one line, not a stack overflow', async () => {
    writeFileSync(join(dir, 'deep.json'), `{"defaults":{"enabled":${'['.repeat(5000)}${']'.repeat(5000)}}}`);
    const r = await dialguard('policy', 'import', join(dir, 'deep.json'));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^dialguard: .*nested more than 32 levels/);
    expect(r.stderr).not.toContain('RangeError');
  });

  it('export then import restores the same policy', async () => {
    writeFileSync(join(dir, 'p.json'), JSON.stringify({ extensions: { '2001': { voicemailCallout: 'domestic' } }, blockedPrefixes: ['+88213'] }));
    await dialguard('policy', 'import', join(dir, 'p.json'));
    const exported = (await dialguard('policy', 'export')).stdout;
    const doc = JSON.parse(exported);
    expect(doc.extensions['2001']).toEqual({ voicemailCallout: 'domestic' });
    expect(doc.blockedPrefixes).toEqual(['+88213']);
    writeFileSync(join(dir, 'again.json'), exported);
    expect((await dialguard('policy', 'import', join(dir, 'again.json'))).status).toBe(0);
    expect((await dialguard('policy', 'export')).stdout).toBe(exported);
  });
});

describe('dialguard check reads the same state as the real decision', () => {
  it('a reservation never settled no longer counts against maxConcurrent once it has expired', async () => {
    writeFileSync(join(dir, 'p.json'), JSON.stringify({ defaults: { budget: { maxConcurrent: 1 } } }));
    expect((await dialguard('policy', 'import', join(dir, 'p.json'))).status).toBe(0);
    const at = Date.parse('2026-11-17T15:00:00Z');
    const t = openGuard(db);
    const call = (when: number) => ({ extension: '1001', dialled: '12125550123', source: '10.0.0.5:5060', origin: 'phone', at: new Date(when), transport: 'agi' as const });
    expect((await t.guard.authorize(call(at))).result).toBe('ALLOW'); // Asterisk crashed: never settled
    const check = (when: number) => checkJson('--ext', '1001', '--number', '12125550123', '--source', '10.0.0.5:5060', '--at', new Date(when).toISOString());
    expect(await check(at + 60_000)).toMatchObject({ status: 1, decision: { reason: 'budget_concurrency' } });
    const later = at + 2 * 3600_000;
    expect(await check(later)).toMatchObject({ status: 0, decision: { result: 'ALLOW', reason: 'allowed' } });
    expect((await t.guard.authorize(call(later))).result).toBe('ALLOW');
    await t.store.close();
  });
});

describe('the dialguard binary', () => {
  it('answers --help, and check exits 0 for ALLOW and 1 for DENY', () => {
    const run = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/bin.ts', '--db', db, ...args], { cwd: root, encoding: 'utf8' });
    expect(run('--help')).toMatchObject({ status: 0 });
    expect(run('--help').stdout).toContain('dialguard check');
    expect(run('check', '--ext', '1001', '--number', '911').status).toBe(0);
    expect(run('check', '--ext', '1001', '--number', '19002345678', '--source', '10.0.0.5').status).toBe(1);
  });

  it('answers --version with the package version, before and after a command', async () => {
    const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    expect(await dialguard('--version')).toEqual({ status: 0, stdout: version, stderr: '' });
    expect(await dialguard('serve', '--version')).toEqual({ status: 0, stdout: version, stderr: '' });
  });
});

describe('dialguard policy import refuses what the engine could not compile', () => {
  it('a blocked prefix starting with +0 is refused at import, so calls never turn into guard_error', async () => {
    writeFileSync(join(dir, 'p.json'), JSON.stringify({ blockedPrefixes: ['+0123'] }));
    const r = await dialguard('policy', 'import', join(dir, 'p.json'));
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('/blockedPrefixes/0');
    expect((await dialguard('check', '--ext', '1001', '--number', '911')).status).toBe(0);
  });
});
