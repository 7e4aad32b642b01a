import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { investigate, type InvestigateOptions } from '../../src/forensics/investigate.js';
import { renderReport } from '../../src/forensics/render.js';
import type { ForensicsDocument } from '../../src/forensics/document.js';
import type { ForensicsReport } from '../../src/forensics/report.js';
import { openGeoIp } from '../../src/geo/geoip.js';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/roles/index.js';
import { loadText } from '../support/captures.js';
import { runCli, runCliOnTerminal, terminalMissing } from '../support/cli-process.js';
import { requireDependency } from '../support/require-dependency.js';
import { tempGuard } from '../support/temp-db.js';

/**
 * The captured break-in (shared/asterisk/security, capture 1) moved from the lab's loopback
 * addresses to one public /24, so that GeoIP places it: the scan from .5, the brute force on 1001
 * from .6 and its success, the other probes from .7–.9. 127.0.0.1 (the PBX, AMI) stays.
 */
const ATTACK_NET = '45.95.147';
const relocate = (text: string): string => text.replace(/127\.0\.0\.([5-9])/g, `${ATTACK_NET}.$1`);
const geoip = openGeoIp();
const attacker = `${ATTACK_NET}.6`;
const TAKEOVER_AT = Date.parse('2026-12-01T22:10:07.596Z');

let dir: string;
let dbPath: string;
let store: Store;
let messages: string;
let security: string;

beforeAll(async () => {
  const g = await tempGuard({ extensions: { '1001': { destinations: { allowCountries: ['*'] }, geofence: { allowCountries: ['*'] } } } } as never);
  dir = g.dir;
  dbPath = g.dbPath;
  messages = join(dir, 'messages');
  security = join(dir, 'security');
  writeFileSync(messages, relocate(loadText('security/messages.log')));
  writeFileSync(security, relocate(loadText('security/security.log')));
  // The calls, through the real decision path: 1001's own call from the office before the break-in,
  // then the intruder's from the attacking address as 1001 (one allowed and settled, one denied),
  // and one as 1002 from the same address.
  const calls: Array<[string, string, string, string, number | null]> = [
    ['1001', '12125550123', '10.0.0.5:5060', '2026-12-01T21:00:00Z', 60],
    ['1001', '011442079460000', `${attacker}:5060`, '2026-12-01T22:10:09.712Z', 60],
    ['1001', '0115352123456', `${attacker}:5060`, '2026-12-01T22:10:10Z', null],
    ['1002', '011442079460000', `${attacker}:5060`, '2026-12-01T22:11:00Z', null],
  ];
  for (const [extension, dialled, source, at, answered] of calls) {
    const d = await g.guard.authorize({ extension, dialled, source, origin: 'phone', at: new Date(at), transport: 'agi' });
    if (answered !== null && d.result === 'ALLOW') await g.guard.settle({ callId: d.callId, answeredSeconds: answered, dialStatus: 'ANSWER', at: new Date(Date.parse(at) + 70_000) });
  }
  await g.store.close();
  store = await openStore({ database: dbPath, lockWaitMs: 5000, reservationGraceSeconds: 300 });
});

afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function run(files: string[], options: Partial<InvestigateOptions> = {}): Promise<ForensicsReport> {
  return investigate({ files, timezone: 'UTC', countryOf: (a) => geoip.country(a), audit: store, auditNote: 'test', ...options });
}

describe('dialguard forensics on the captured break-in', () => {
  it('names the source, the account taken over, the moment and the calls', async () => {
    const report = await run([messages, security]);
    expect(report.files.map((f) => [f.lines, f.events, f.ignored, f.unrecognised, f.error])).toEqual([
      [69, 55, 14, 0, undefined],
      [80, 80, 0, 0, undefined],
    ]);
    // One attempt per request, whatever number of lines and events it left in the two files.
    expect(report.sources.map((s) => [s.address, s.attempts, s.accountsTried])).toEqual([
      [`${ATTACK_NET}.5`, 13, 13],
      [attacker, 4, 1],
      [`${ATTACK_NET}.7`, 2, 2],
      ['127.0.0.1', 2, 2],
      [`${ATTACK_NET}.9`, 1, 1],
      [`${ATTACK_NET}.8`, 1, 1],
    ]);
    const scan = report.sources[0];
    expect(scan?.accounts).toEqual(['127', '128', '129', '1000', '1002', '1003', '1004', '1005', '1006', '1007', '1008', '1009', '1010']);
    expect(scan?.firstSeen).toBe(Date.parse('2026-12-01T22:10:01.676Z'));
    expect(scan?.peakPerMinute).toBe(13);
    const brute = report.sources[1];
    expect(brute?.country).toBe(geoip.country(attacker));
    expect(brute?.country).not.toBeNull();
    expect(brute?.accounts).toEqual(['1001']);
    expect(report.networks).toEqual([
      { network: `${ATTACK_NET}.0/24`, addresses: [`${ATTACK_NET}.5`, attacker, `${ATTACK_NET}.7`, `${ATTACK_NET}.9`, `${ATTACK_NET}.8`], attempts: 21, firstSeen: scan?.firstSeen, lastSeen: Date.parse('2026-12-01T22:10:16.185Z') },
    ]);

    expect(report.takeovers).toHaveLength(1);
    const takeover = report.takeovers[0];
    expect(takeover).toMatchObject({ account: '1001', service: 'PJSIP', at: TAKEOVER_AT });
    expect(takeover?.sources.map((s) => [s.address, s.reasons, s.at])).toEqual([[attacker, ['failed_before'], TAKEOVER_AT]]);
    expect(takeover?.sources[0]?.line.text).toContain('SecurityEvent="SuccessfulAuth"');
    // The break-in, the INVITE and the unregister, as the security log tells them; messages' Added contact is the first of them again.
    expect(takeover?.sources[0]?.successes).toBe(3);

    const after = report.calls?.byAccount[0];
    expect(after).toMatchObject({ account: '1001', since: TAKEOVER_AT });
    // The office call of 21:00 came before the takeover: not the attacker's.
    expect(after?.summary).toMatchObject({ calls: 2, allowed: 1, denied: 1, destinations: { GB: 1, CU: 1 }, deniedBy: { destination_high_risk: 1 } });
    // The money is the audit's own: what the London call reserved and what its settlement cost.
    const london = after?.summary.sample.find((c) => c.country === 'GB');
    const record = await store.getDecision(london?.callId ?? '');
    const [settlement] = await store.listSettlements(london?.callId ?? '');
    expect(record?.reservedMicros).toBeGreaterThan(0);
    expect(settlement?.costMicros).toBeGreaterThan(0);
    expect(after?.summary).toMatchObject({ reservedMicros: record?.reservedMicros, settledMicros: settlement?.costMicros });
    expect(report.calls?.fromSources).toMatchObject({ calls: 3, allowed: 1, denied: 2, deniedBy: { destination_high_risk: 1, destination_country_denied: 1 } });
    expect(report.calls?.fromSources.sample.map((c) => c.extension)).toEqual(['1002', '1001', '1001']);

    const actions = report.actions.join('\n');
    expect(actions).toContain('Change the secret of account 1001');
    expect(actions).toContain(`authenticated from ${attacker}`);
    expect(actions).toContain('POST /api/v1/extensions/1001/lock');
    expect(actions).toContain(`so that it cannot be used from ${brute?.country} again`);
    expect(actions).toContain(`Block at the firewall (ipset/nftables set) the sources that failed to authenticate: ${ATTACK_NET}.0/24.`);
    expect(actions).toContain("Find the device behind 127.0.0.1");
    expect(actions).toMatch(/Review the 1 call\(s\) dialguard allowed to the attacker \(settled cost \d+\.\d\d, destinations GB 1\)/);
    expect(actions).toContain('AMI logins failed (127.0.0.1 as admin, dgsec)');
    // A security log was given: no advice to add one.
    expect(actions).not.toContain('security => security');
  });

  it('from the messages log alone at verbose 2, the takeover is the account coming online after failures on it', async () => {
    const lone = join(dir, 'capture2-messages');
    writeFileSync(lone, loadText('security/capture2-messages.log'));
    const report = await run([lone], { audit: null });
    expect(report.takeovers).toEqual([
      { account: '1001', service: 'PJSIP', at: Date.parse('2026-12-01T22:12:35Z'), sources: [expect.objectContaining({ address: null, reasons: ['failed_on_account'] })] },
    ]);
    expect(report.calls).toBeNull();
    expect(report.actions.join('\n')).toContain('security => security');
    // With its security log, the address is known and the guess goes.
    const withSecurity = join(dir, 'capture2-security');
    writeFileSync(withSecurity, loadText('security/capture2-security.log'));
    const both = await run([lone, withSecurity], { audit: null });
    expect(both.takeovers.map((t) => [t.account, t.at, t.sources.map((s) => s.address)])).toEqual([['1001', Date.parse('2026-12-01T22:12:35.993Z'), ['127.0.0.6']]]);
  });

  it('reads rotated and gzip files as the plain ones, and names what it could not read', async () => {
    const rotated = join(dir, 'rotated');
    mkdirSync(rotated);
    const lines = relocate(loadText('security/messages.log')).split('\n');
    writeFileSync(join(rotated, 'messages.1'), `${lines.slice(0, 30).join('\n')}\n`);
    writeFileSync(join(rotated, 'messages'), lines.slice(30).join('\n'));
    writeFileSync(join(rotated, 'security.1.gz'), gzipSync(relocate(loadText('security/security.log'))));
    // An older rotation cut short (its lines are older than the capture's), a folder, a missing file and a line of 100 000 characters.
    const older = Array.from({ length: 2000 }, (_, i) => `[2026-11-20 08:00:00.${String(i % 1000).padStart(3, '0')}] VERBOSE[100] pbx.c: line ${i * 7919}`).join('\n');
    writeFileSync(join(rotated, 'security.2.gz'), gzipSync(older).subarray(0, 600));
    writeFileSync(join(rotated, 'full'), `${'x'.repeat(100_000)}\n${lines[1]}\n`);
    mkdirSync(join(rotated, 'folder'));
    const files = ['messages', 'messages.1', 'security.1.gz', 'security.2.gz', 'full', 'missing', 'folder'].map((f) => join(rotated, f));
    const report = await run(files);
    const plain = await run([messages, security]);
    expect(report.sources).toEqual(
      plain.sources.map((s) => ({ ...s, evidence: expect.any(Array) })),
    );
    expect(report.takeovers.map((t) => [t.account, t.at])).toEqual(plain.takeovers.map((t) => [t.account, t.at]));
    const byName = Object.fromEntries(report.files.map((f) => [f.path.slice(rotated.length + 1), f]));
    expect(byName['messages.1']).toMatchObject({ lines: 30 });
    expect(byName['security.1.gz']).toMatchObject({ lines: 80, events: 80 });
    expect([byName['messages.1']?.error, byName['messages']?.error, byName['security.1.gz']?.error]).toEqual([undefined, undefined, undefined]);
    expect(byName['security.2.gz']?.error).toMatch(/unexpected end of file/i);
    expect(byName['full']).toMatchObject({ lines: 2, events: 1, unrecognised: 1, overlong: 1 });
    expect(byName['missing']?.error).toMatch(/ENOENT/);
    expect(byName['folder']?.error).toBe('not a regular file');
    expect(report.actions.join('\n')).toContain(`Read again with access to ${join(rotated, 'security.2.gz')}, ${join(rotated, 'missing')}, ${join(rotated, 'folder')}`);
  });

  it('full repeats messages: giving it too changes no count, and a file named twice is read once', async () => {
    const full = join(dir, 'full');
    writeFileSync(full, relocate(loadText('security/full.log')));
    const plain = await run([messages, security]);
    const all = await run([messages, full, security, messages]);
    expect(all.files.map((f) => f.path)).toEqual([messages, full, security]);
    expect(all.sources.map((s) => [s.address, s.attempts, s.accounts, s.peakPerMinute])).toEqual(plain.sources.map((s) => [s.address, s.attempts, s.accounts, s.peakPerMinute]));
    expect(all.totals).toEqual(plain.totals);
    expect(all.takeovers.map((t) => [t.account, t.at, t.sources.map((x) => [x.address, x.successes])])).toEqual(plain.takeovers.map((t) => [t.account, t.at, t.sources.map((x) => [x.address, x.successes])]));
  });

  it('chan_sip: failed registrations then "Registered SIP" from the same address is a takeover, in the lines sites quote', async () => {
    // The forms of shared/asterisk/security/chan_sip-lines.txt (1.6: no port on failures, "at IP port N"), for one peer.
    const lines = [
      ...[1, 2, 3].map((s) => `[Jul 21 04:39:5${s}] NOTICE[4324] chan_sip.c: Registration from '"1001"<sip:1001@X.X.X.X>' failed for '174.121.165.202' - Wrong password`),
      `[Jul 21 04:39:54] NOTICE[4324] chan_sip.c: Registration from '"1002"<sip:1002@X.X.X.X>' failed for '174.121.165.202' - No matching peer found`,
      `[Jul 21 04:40:10] VERBOSE[4324] logger.c: -- Registered SIP '1001' at 174.121.165.202 port 5060`,
      `[Jul 21 05:00:00] VERBOSE[4324] logger.c: -- Registered SIP '0004F72A00057' at 74.115.96.19 port 5060`,
    ];
    const sip = join(dir, 'chan_sip-messages');
    writeFileSync(sip, `${lines.join('\n')}\n`);
    const report = await run([sip], { audit: null });
    expect(report.sources.map((s) => [s.address, s.services, s.attempts, s.accounts])).toEqual([['174.121.165.202', ['SIP'], 4, ['1001', '1002']]]);
    expect(report.takeovers.map((t) => [t.account, t.service, new Date(t.at).toISOString().slice(5), t.sources.map((x) => [x.address, x.reasons])])).toEqual([
      ['1001', 'SIP', '07-21T04:40:10.000Z', [['174.121.165.202', ['failed_before']]]],
    ]);
    expect(report.actions.join('\n')).toContain('Change the secret of account 1001');
  });

  it('a log with no attack gives no advice at all: every step is about something found', async () => {
    const quiet = join(dir, 'quiet');
    writeFileSync(quiet, loadText('security/messages.log').split('\n').filter((l) => l.includes('VERBOSE') && !l.includes('logged on from') && !l.includes('Added contact') && !l.includes('is now Reachable')).join('\n'));
    const report = await run([quiet]);
    expect(report.files[0]).toMatchObject({ events: 0, unrecognised: 0 });
    expect(report.files[0]?.ignored).toBeGreaterThan(0);
    expect([report.sources, report.takeovers, report.actions]).toEqual([[], [], []]);
    expect(report.calls?.all.calls).toBe(0);
    expect(renderReport(report, 'UTC')).toContain('What to do\n  nothing: these logs show no attack');
  });

  it('--since leaves out what came before: a success after failures outside the window is not a takeover', async () => {
    const report = await run([messages, security], { since: Date.parse('2026-12-01T22:10:06Z'), until: Date.parse('2026-12-01T22:10:12Z') });
    expect(report.sources.map((s) => [s.address, s.attempts])).toEqual([[`${ATTACK_NET}.7`, 2]]);
    expect(report.takeovers).toEqual([]);
    expect(report.calls?.fromSources.calls).toBe(0);
  });
});

describe('dialguard forensics as a command', () => {
  const env = (): Record<string, string> => ({ DIALGUARD_DB: dbPath, DIALGUARD_TIMEZONE: 'UTC' });

  it('prints the report, and the same as one JSON document', async () => {
    const text = await runCli(['forensics', messages, security], { cwd: dir, env: env() });
    expect(text.stderr).toBe('');
    expect(text.status).toBe(0);
    expect(text.stdout).toContain(`${attacker} (${geoip.country(attacker)}, PJSIP): 4 failed attempt(s), 1 account(s): 1001`);
    expect(text.stdout).toContain('1001 (PJSIP) from 2026-12-01 22:10:07.596');
    expect(text.stdout).toMatch(/calls of 1001 since 2026-12-01 22:10:07\.596: 2 \(1 allowed, 1 denied: destination_high_risk 1\)/);
    const json = await runCli(['forensics', '--json', messages, security], { cwd: dir, env: env() });
    expect(json.status).toBe(0);
    expect(json.stdout.trim().split('\n')).toHaveLength(1);
    const doc = JSON.parse(json.stdout) as Record<string, unknown> & ForensicsDocument;
    // shared/design.md's names, which tools rely on.
    expect(Object.keys(doc)).toEqual(expect.arrayContaining(['sources', 'takeovers', 'calls', 'advice']));
    expect(doc.sources.find((s) => s.address === attacker)).toMatchObject({
      address: attacker,
      country: geoip.country(attacker),
      failures: 4,
      accounts: ['1001'],
      first: '2026-12-01T22:10:05.145Z',
      last: '2026-12-01T22:10:05.481Z',
    });
    expect(doc.takeovers).toHaveLength(1);
    expect(doc.takeovers[0]).toMatchObject({ account: '1001', address: attacker, at: '2026-12-01T22:10:07.596Z' });
    // The failures that made the address suspicious, then the success.
    expect(doc.takeovers[0]?.evidence.some((l) => l.includes("failed for '45.95.147.6:5060'") && l.includes('Failed to authenticate'))).toBe(true);
    expect(doc.takeovers[0]?.evidence.at(-1)).toContain('SecurityEvent="SuccessfulAuth"');
    // Every audited call tied to the takeover or the attacking addresses, once: not the office call of 21:00.
    expect(doc.calls?.map((c) => [c.ext, c.e164, c.country, c.result, c.reason, c.source])).toEqual([
      ['1002', '+442079460000', 'GB', 'DENY', 'destination_country_denied', attacker],
      ['1001', '+5352123456', 'CU', 'DENY', 'destination_high_risk', attacker],
      ['1001', '+442079460000', 'GB', 'ALLOW', 'allowed', attacker],
    ]);
    expect(doc.calls?.map((c) => c.at)).toEqual(['2026-12-01T22:11:00.000Z', '2026-12-01T22:10:10.000Z', '2026-12-01T22:10:09.712Z']);
    expect(doc.calls?.every((c) => /^[0-9A-Z]{26}$/.test(c.id))).toBe(true);
    expect(doc.callSummary?.byAccount[0]).toMatchObject({ account: '1001', since: '2026-12-01T22:10:07.596Z', summary: { calls: 2, allowed: 1, denied: 1 } });
    expect(doc.advice).toEqual(expect.arrayContaining([expect.stringContaining('Change the secret of account 1001')]));
    expect(doc.advice.every((a) => typeof a === 'string')).toBe(true);
  });

  it('a bad TIME or no FILE is a usage error, exit 2', async () => {
    const bad = await runCli(['forensics', '--since', 'last tuesday', messages], { cwd: dir, env: env() });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--since "last tuesday" is not an ISO-8601 time');
    const backwards = await runCli(['forensics', '--since', '2026-12-02', '--until', '2026-12-01', messages], { cwd: dir, env: env() });
    expect(backwards.status).toBe(2);
    expect(backwards.stderr).toContain('--until must be after --since');
    const none = await runCli(['forensics'], { cwd: dir, env: env() });
    expect(none.status).toBe(2);
    expect(none.stderr).toContain('give at least one log FILE');
  });

  it('without a database it reports the logs and says the calls are not known, creating nothing', async () => {
    const r = await runCli(['forensics', messages], { cwd: dir, env: { DIALGUARD_DB: join(dir, 'none.db'), DIALGUARD_TIMEZONE: 'UTC' } });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`no database at ${join(dir, 'none.db')}: the calls are not known`);
    expect(r.stdout).toContain('1001 (PJSIP) from 2026-12-01 22:10:07.597');
  });
});

describe.runIf(await requireDependency('a pseudo-terminal', terminalMissing))('dialguard forensics on a terminal', () => {
  it('shows its progress on stderr, in place, and clears it before the report; piped, it shows none', async () => {
    const env = { DIALGUARD_DB: dbPath, DIALGUARD_TIMEZONE: 'UTC' };
    const run = await runCliOnTerminal(['forensics', messages, security], { cwd: dir, env, stdoutPath: join(dir, 'report.txt') });
    expect(run.status).toBe(0);
    // Each file's two readings end at 100%, each line written over the one before it.
    for (const [file, pass] of [[messages, 'failures'], [security, 'failures'], [messages, 'successes'], [security, 'successes']]) {
      expect(run.stderr).toContain(`\r\x1b[Kreading ${file} (${pass}): 100%`);
    }
    expect(run.stderr.endsWith('\r\x1b[K')).toBe(true);
    expect(run.stdout).toContain('Accounts taken over (suspected): 1');
    expect(run.stdout).not.toContain('reading ');
    const piped = await runCli(['forensics', messages, security], { cwd: dir, env });
    expect(piped.stderr).toBe('');
  });
});
