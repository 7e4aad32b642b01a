import { appendFileSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AlertPayload } from '../../src/alerts/payload.js';
import { SIGNATURE_HEADER, verifySignature } from '../../src/alerts/signature.js';
import { startReceiver, type Receiver } from '../fraud/receiver.js';
import { authorizeEnv, playAsteriskSession } from '../support/asterisk-agi.js';
import { retimedEventBlocks, startAsteriskAmi, type AsteriskAmi } from '../support/asterisk-ami.js';
import { captureLines, latestCaptureTime, shiftCaptureTimes } from '../support/security-captures.js';
import { seedPolicy } from '../support/seed.js';
import { logLines, startServe, type ServeProcess } from '../support/serve-process.js';

/**
 * Issue 12's end-to-end test through the real pipes: a `dialguard serve` process reads the
 * break-in of shared/asterisk/security (README "Timeline of capture 1") from the AMI double over
 * TCP, and from a security log file it follows across a rotation; Asterisk's FastAGI double asks
 * it about calls over TCP; the admin API, /metrics and a webhook receiver show what it did.
 *
 * What the capture holds, by source (all in 127.0.0.0/24): 127.0.0.5 scanned 13 accounts that do
 * not exist (a), 127.0.0.6 tried 4 wrong passwords on 1001 (b) and then got in (c), 127.0.0.7 two
 * wrong secrets (d1, d2), 127.0.0.8 and 127.0.0.9 one probe each (e, f), 127.0.0.1 two failed AMI
 * logins (h): at the break-in the /24 had 17 failures, by the end 23.
 */

const TOKEN = 'live-feed-e2e-admin-token-0123456789';
const SECRET = 'live-feed-e2e-webhook-secret-0123456789';
const AMI_USER = 'dgsec';
const AMI_SECRET = 'dgsecret';
/** Two offices in the site's trusted networks: each registers all its phones from one public (NAT) address. */
const OFFICE = '198.51.100.7';
const OFFICE_NAT = '198.51.100.9';
/** A home worker outside them. */
const HOME = '203.0.113.45';
/** An address the shipped GeoIP database places in Germany. */
const ABROAD = '80.128.0.1';
const SITE = {
  defaults: {
    budget: { dailySpend: null, monthlySpend: null, dailyMinutes: null, maxConcurrent: null },
    geofence: { allowCidrs: ['127.0.0.0/8', '198.51.100.0/24', '203.0.113.0/24'] },
    intrusion: { trustedCidrs: ['198.51.100.0/28'] },
  },
  extensions: { '1001': {}, '1002': {}, '2001': {}, '2002': {}, '2003': {} },
  rates: [{ prefix: '+', perMinute: 0.01, increment: 60 }],
};

interface Guard {
  serve: ServeProcess;
  api(path: string): Promise<Response>;
  authorize(ext: string, source: string): Promise<Record<string, string>>;
  metrics(): Promise<string>;
}

const dirs: string[] = [];
const started: Array<() => Promise<unknown>> = [];

async function startGuard(env: Record<string, string>): Promise<Guard> {
  const dir = mkdtempSync(join(tmpdir(), 'dialguard-live-feed-'));
  dirs.push(dir);
  const db = join(dir, 'dialguard.db');
  await seedPolicy(db, SITE);
  const serve = await startServe(db, { DIALGUARD_ADMIN_TOKEN: TOKEN, ...env });
  started.push(() => serve.stop());
  const api = (path: string): Promise<Response> => fetch(`http://127.0.0.1:${serve.httpPort}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return {
    serve,
    api,
    async authorize(ext, source) {
      const session = await playAsteriskSession({ port: serve.agiPort, env: authorizeEnv({ ext, number: '12125550123', source, origin: 'phone' }) });
      return Object.fromEntries(session.variables);
    },
    metrics: async () => (await api('/metrics')).text(),
  };
}

afterAll(async () => {
  for (const stop of started.reverse()) await stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A sample's value in the Prometheus text, labels in any order; 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map(([, k, v]) => [k, v]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return 0;
}

const consumed = (text: string, source: string): number =>
  ['invalid_account', 'failed_auth', 'successful_auth', 'challenge_sent', 'other'].reduce((n, kind) => n + sample(text, 'dialguard_security_events_total', { source, kind }), 0);

/** The audited outcome of one check of a decision, read over the admin API. */
async function auditedCheck(guard: Guard, callId: string, check: string): Promise<unknown> {
  const body = (await (await guard.api(`/api/v1/decisions/${callId}`)).json()) as { decision: { checks: Array<{ name: string }> } };
  return body.decision.checks.find((c) => c.name === check);
}

const deny = (vars: Record<string, string>): [string | undefined, string | undefined] => [vars.DIALGUARD_RESULT, vars.DIALGUARD_REASON];

/** A captured AMI block as the same Asterisk would send it for another address, account and request. */
function asFrom(block: Buffer, who: { address: string; account: string; session: string }): Buffer {
  return Buffer.from(
    block
      .toString('utf8')
      .replace(/^RemoteAddress: IPV4\/UDP\/[^/]+\//m, `RemoteAddress: IPV4/UDP/${who.address}/`)
      .replace(/^AccountID: .*$/m, `AccountID: ${who.account}`)
      .replace(/^SessionID: .*$/m, `SessionID: ${who.session}`),
  );
}

/** Blocks that are not security events (PeerStatus, ContactStatus): the feed consumes none of them. */
function countNonSecurity(blocks: Buffer[]): number {
  return blocks.filter((b) => !b.includes('Privilege: security,')).length;
}

/** Security events up to the break-in: the login's SuccessfulAuth, the scan's 13 × 4, the brute force's 4 × 2 and the break-in's ChallengeSent. */
const BRUTE_FORCE_EVENTS = 1 + 13 * 4 + 4 * 2 + 1;

describe('live security events from AMI', () => {
  let ami: AsteriskAmi;
  let receiver: Receiver;
  let guard: Guard;
  /** The capture up to the break-in (a, b), and from it on (c … c2). */
  let bruteForce: Buffer[];
  let breakIn: Buffer[];

  beforeAll(async () => {
    const blocks = retimedEventBlocks(Date.now());
    const first = blocks.findIndex((b) => b.includes('Event: SuccessfulAuth\r\n') && b.includes('Service: PJSIP\r\n'));
    bruteForce = blocks.slice(0, first);
    breakIn = blocks.slice(first);
    ami = await startAsteriskAmi({ user: AMI_USER, secret: AMI_SECRET, afterLogin: () => bruteForce });
    started.push(() => ami.close());
    receiver = await startReceiver();
    started.push(() => receiver.close());
    guard = await startGuard({ DIALGUARD_AMI_URL: ami.url(), DIALGUARD_ALERT_WEBHOOK: receiver.url, DIALGUARD_ALERT_SECRET: SECRET });
    await vi.waitFor(async () => expect(consumed(await guard.metrics(), 'ami')).toBe(BRUTE_FORCE_EVENTS), { timeout: 15_000, interval: 100 });
  }, 40_000);

  it('the brute force: a call from the scanner, or from the brute-forcing address, is denied source_suspicious and audited so', async () => {
    const scanner = await guard.authorize('1002', '127.0.0.5:5060');
    expect(scanner).toMatchObject({
      DIALGUARD_RESULT: 'DENY',
      DIALGUARD_REASON: 'source_suspicious',
      DIALGUARD_MESSAGE: "Call to United States denied: the caller's address is attacking this PBX",
      DIALGUARD_LIMIT_MS: '0',
    });
    expect(await auditedCheck(guard, scanner.DIALGUARD_CALL_ID as string, 'source_suspicious')).toEqual({
      name: 'source_suspicious',
      outcome: 'fail',
      reason: 'source_suspicious',
      detail: '127.0.0.5 had 13 failed authentications in the last 24 h, limit 10',
    });
    // 4 wrong passwords are below the limit; its /24 is not.
    const bruteForcer = await guard.authorize('1001', '127.0.0.6:5060');
    expect(deny(bruteForcer)).toEqual(['DENY', 'source_suspicious']);
    expect(await auditedCheck(guard, bruteForcer.DIALGUARD_CALL_ID as string, 'source_suspicious')).toMatchObject({
      detail: '127.0.0.0/24, the network of 127.0.0.6, had 17 failed authentications in the last 24 h, limit 10',
    });
    const metrics = await guard.metrics();
    expect(sample(metrics, 'dialguard_security_events_total', { source: 'ami', kind: 'invalid_account' })).toBe(13 * 2);
    expect(sample(metrics, 'dialguard_security_events_total', { source: 'ami', kind: 'failed_auth' })).toBe(13 + 4);
    expect(sample(metrics, 'dialguard_sources_flagged')).toBe(1);
    expect(sample(metrics, 'dialguard_takeover_locks_total')).toBe(0);
    expect((await (await guard.api('/api/v1/extensions/1001')).json()) as { lock: unknown }).toMatchObject({ lock: null });
    expect(receiver.received).toHaveLength(0);
  });

  it('the break-in: SuccessfulAuth for 1001 from 127.0.0.6 locks 1001, a signed webhook names the address, its failures and its country, its next call is denied', async () => {
    ami.send(breakIn);
    const [request] = await receiver.waitFor(1, 15_000);
    expect(verifySignature(SECRET, request?.headers[SIGNATURE_HEADER] as string, request?.body as string)).toBe(true);
    const payload = JSON.parse(request?.body as string) as AlertPayload;
    // GeoIP places no loopback address: the capture's attacker has no country.
    expect(payload).toMatchObject({ kind: 'lock', extension: '1001', check: 'takeover', counter: 'sourceFailures', count: 17, limit: 10, country: null, locked: true });
    expect(payload.counts).toMatchObject({ sourceFailures: 4, networkFailures: 17 });
    expect(payload.message).toBe(
      'Extension 1001 locked until an admin unlocks it: account 1001 authenticated from 127.0.0.6 (country unknown) after 4 failed authentications from it and 17 from 127.0.0.0/24 in the last 24 h',
    );

    const extension = (await (await guard.api('/api/v1/extensions/1001')).json()) as { lock: { reason: string; actor: string } | null };
    expect(extension.lock).toMatchObject({ actor: 'dialguard', reason: expect.stringContaining('taken over: account 1001 authenticated from 127.0.0.6') });
    // Locked: denied as locked wherever it calls from, even from a clean address.
    expect(deny(await guard.authorize('1001', '192.0.2.10:5060'))).toEqual(['DENY', 'extension_locked']);
    expect((await (await guard.api('/api/v1/extensions/1002')).json()) as { lock: unknown }).toMatchObject({ lock: null });

    await vi.waitFor(async () => expect(consumed(await guard.metrics(), 'ami')).toBe(BRUTE_FORCE_EVENTS + breakIn.length - countNonSecurity(breakIn)), { timeout: 10_000 });
    const metrics = await guard.metrics();
    expect(sample(metrics, 'dialguard_takeover_locks_total')).toBe(1);
    expect(sample(metrics, 'dialguard_sources_flagged')).toBe(1);
    // The whole /24: the scanner alone passes the limit, and the others' failures together pass it too.
    expect(await (await guard.api('/api/v1/sources/suspicious?format=plain')).text()).toBe('127.0.0.0/24\n');
    // The intruder's INVITE and unregister (g, c2) are the same takeover: one alert.
    expect(receiver.received).toHaveLength(1);
  });

  it('the offices: trusted NAT addresses, one phone with a typo and one with many failures, and a home worker with one typo, are never flagged, never locked, and call', async () => {
    // The brute force's own blocks (b, c): a wrong password, and the right one.
    const of1001 = (event: string): Buffer => bruteForce.concat(breakIn).find((b) => b.includes(`Event: ${event}\r\n`) && b.includes('AccountID: 1001\r\n')) as Buffer;
    const [challenge, failed, success] = [of1001('ChallengeSent'), of1001('ChallengeResponseFailed'), of1001('SuccessfulAuth')];
    const attempt = (who: { address: string; account: string; session: string }, ok: boolean): Buffer[] => [asFrom(challenge, who), asFrom(ok ? success : failed, who)];
    const before = consumed(await guard.metrics(), 'ami');
    const blocks = [
      ...attempt({ address: OFFICE, account: '2001', session: 'typo@office' }, false),
      ...attempt({ address: OFFICE, account: '2001', session: 'fixed@office' }, true),
      ...Array.from({ length: 30 }, (_, i) => attempt({ address: OFFICE_NAT, account: '2003', session: `stuck-${i}@office` }, false)).flat(),
      ...attempt({ address: OFFICE_NAT, account: '2003', session: 'fixed@office' }, true),
      ...attempt({ address: HOME, account: '2002', session: 'typo@home' }, false),
      ...attempt({ address: HOME, account: '2002', session: 'fixed@home' }, true),
    ];
    ami.send(blocks);
    await vi.waitFor(async () => expect(consumed(await guard.metrics(), 'ami')).toBe(before + blocks.length), { timeout: 10_000 });

    for (const [ext, address] of [['2001', OFFICE], ['2003', OFFICE_NAT], ['2002', HOME]] as const) {
      expect(deny(await guard.authorize(ext, `${address}:5060`))).toEqual(['ALLOW', 'allowed']);
      expect((await (await guard.api(`/api/v1/extensions/${ext}`)).json()) as { lock: unknown }).toMatchObject({ lock: null });
    }
    const suspicious = await (await guard.api('/api/v1/sources/suspicious?format=plain')).text();
    expect(suspicious).toBe('127.0.0.0/24\n');
    expect(receiver.received).toHaveLength(1);
    expect(sample(await guard.metrics(), 'dialguard_takeover_locks_total')).toBe(1);
  });

  it('an attacker abroad: the captured brute force and break-in, as from a German address on 1002, lock 1002 with an alert naming DE', async () => {
    // The brute force (b) three times over, each attempt on its own Call-ID (12 wrong passwords), then the break-in (c).
    const mine = [...bruteForce, ...breakIn].filter((b) => b.includes('RemoteAddress: IPV4/UDP/127.0.0.6/'));
    const first = mine.findIndex((b) => b.includes('Event: SuccessfulAuth\r\n'));
    const sessionOf = (b: Buffer): string => /^SessionID: (.*)$/m.exec(b.toString('utf8'))?.[1] as string;
    const rounds = [0, 1, 2].flatMap((round) => mine.slice(0, first).map((b) => asFrom(b, { address: ABROAD, account: '1002', session: `${round}-${sessionOf(b)}` })));
    ami.send([...rounds, asFrom(mine[first] as Buffer, { address: ABROAD, account: '1002', session: `in-${sessionOf(mine[first] as Buffer)}` })]);

    const alertOf = (ext: string): AlertPayload | undefined => receiver.received.map((r) => JSON.parse(r.body) as AlertPayload).find((p) => p.extension === ext);
    await vi.waitFor(() => expect(alertOf('1002')).toBeDefined(), { timeout: 15_000, interval: 100 });
    const payload = alertOf('1002') as AlertPayload;
    expect(payload).toMatchObject({ kind: 'lock', extension: '1002', check: 'takeover', count: 12, limit: 10, country: 'DE', locked: true });
    expect(payload.message).toBe(`Extension 1002 locked until an admin unlocks it: account 1002 authenticated from ${ABROAD} (DE) after 12 failed authentications from it in the last 24 h`);
    expect(deny(await guard.authorize('1002', '192.0.2.10:5060'))).toEqual(['DENY', 'extension_locked']);
    expect(sample(await guard.metrics(), 'dialguard_takeover_locks_total')).toBe(2);
    expect(await (await guard.api('/api/v1/sources/suspicious?format=plain')).text()).toBe(`127.0.0.0/24\n${ABROAD}\n`);
  });
});

describe('live security events from the security log, across a rotation', () => {
  it('serve follows the file by name through rename + new file: the scanner is denied source_suspicious with every failure counted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dialguard-live-log-'));
    dirs.push(dir);
    const log = join(dir, 'security');
    writeFileSync(log, '');
    // The log's prefix is the PBX's wall clock in the capture's zone, UTC; EventTV dates the events anyway.
    const guard = await startGuard({ DIALGUARD_SECURITY_LOG: log, DIALGUARD_TIMEZONE: 'UTC' });
    // It starts at the end of the file: what is written before it has found that end is not read.
    await vi.waitFor(() => expect(logLines(guard.serve.output).some((l) => l.msg === 'following the security log')).toBe(true), { timeout: 10_000, interval: 50 });
    const captured = captureLines('security.log');
    const shift = Date.now() - latestCaptureTime(captured.join('\n'));
    const lines = captured.map((line) => `${shiftCaptureTimes(line, shift)}\n`);
    // The AMI login, then the scan of 13 accounts (4 lines each) cut in three, no two parts reaching the limit of 10 alone.
    const [part1, part2, part3] = [lines.slice(0, 1 + 4 * 4), lines.slice(1 + 4 * 4, 1 + 8 * 4), lines.slice(1 + 8 * 4)];
    const consumedFile = async (): Promise<number> => consumed(await guard.metrics(), 'file');

    expect(sample(await guard.metrics(), 'dialguard_sources_flagged')).toBe(0);
    appendFileSync(log, part1.join(''));
    await vi.waitFor(async () => expect(await consumedFile()).toBe(part1.length), { timeout: 10_000, interval: 100 });
    // logrotate: rename; Asterisk writes on into the renamed file until it reopens its logs, then into a new one.
    renameSync(log, `${log}.1`);
    appendFileSync(`${log}.1`, part2.join(''));
    // Asterisk opens every log file with its header line (capture 2's, verbatim): not an event, not a fault.
    const [header] = captureLines('capture2-security.log');
    writeFileSync(log, `${header}\n${part3.join('')}`);
    await vi.waitFor(async () => expect(await consumedFile()).toBe(lines.length), { timeout: 10_000, interval: 100 });

    const scanner = await guard.authorize('1002', '127.0.0.5:5060');
    expect(deny(scanner)).toEqual(['DENY', 'source_suspicious']);
    expect(await auditedCheck(guard, scanner.DIALGUARD_CALL_ID as string, 'source_suspicious')).toMatchObject({
      detail: '127.0.0.5 had 13 failed authentications in the last 24 h, limit 10',
    });
    expect(deny(await guard.authorize('1001', '192.0.2.10:5060'))).toEqual(['DENY', 'extension_locked']);
    const metrics = await guard.metrics();
    expect(sample(metrics, 'dialguard_security_events_unparsed_total', { source: 'file' })).toBe(0);
    expect(sample(metrics, 'dialguard_sources_flagged')).toBe(1);
    expect(await (await guard.api('/api/v1/sources/suspicious?format=plain')).text()).toBe('127.0.0.0/24\n');
  }, 40_000);
});
