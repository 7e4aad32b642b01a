import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertPayload } from '../../src/alerts/payload.js';
import { SIGNATURE_HEADER, verifySignature } from '../../src/alerts/signature.js';
import { loadConfig } from '../../src/config/config.js';
import type { SecurityEvent } from '../../src/domain/security.js';
import { createLogger } from '../../src/logger.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { startReceiver, type Receiver } from '../fraud/receiver.js';
import { authorizeEnv, playAsteriskSession } from '../support/asterisk-agi.js';
import { seedPolicy } from '../support/seed.js';
import { captureEvents, from } from '../support/security-events.js';

/**
 * The break-in of shared/asterisk/security, replayed into a real `dialguard serve` (in-process:
 * FastAGI, the admin API and the alert queue on a temporary database) through the tracker's
 * sink, the way the AMI feed delivers events: brute force, SuccessfulAuth, then calls.
 */

const SECRET = 'intrusion-e2e-secret-0123456789';
const TOKEN = 'intrusion-e2e-admin-token-0123456789';
/** The office registers its phones from one public address, 198.51.100.7 (behind NAT). */
const OFFICE = '198.51.100.7';
const SITE = {
  defaults: {
    budget: { dailySpend: null, monthlySpend: null, dailyMinutes: null, maxConcurrent: null },
    geofence: { allowCidrs: ['127.0.0.0/8', '192.168.0.0/16', `${OFFICE}/32`] },
  },
  extensions: { '1001': {}, '1002': {}, '2001': {} },
  rates: [{ prefix: '+', perMinute: 0.01, increment: 60 }],
};

let dir: string;
let receiver: Receiver;
let server: RunningServer;

const api = (path: string): Promise<Response> => fetch(`http://127.0.0.1:${server.http.port}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
const authorize = async (ext: string, source: string): Promise<Record<string, string>> =>
  Object.fromEntries((await playAsteriskSession({ port: server.agi.port, env: authorizeEnv({ ext, number: '12125550123', source, origin: 'phone' }) })).variables);

/**
 * The capture's brute force on 1001 from 127.0.0.6 (b), played three times over (12 wrong
 * passwords, each on its own Call-ID), then its break-in (c) and the REGISTER refresh after it,
 * all moved to just now.
 */
function breakIn(): SecurityEvent[] {
  const mine = from(captureEvents(), '127.0.0.6');
  const first = mine.findIndex((e) => e.kind === 'successful_auth');
  const bruteForce = mine.slice(0, first);
  const start = Date.now() - 60_000;
  const base = bruteForce[0]?.at as number;
  const rounds = [0, 1, 2].flatMap((round) => bruteForce.map((e) => ({ ...e, at: start + round * 1000 + (e.at - base), session: `${e.session}-${round}` })));
  const success = mine[first] as SecurityEvent;
  return [...rounds, { ...success, at: start + 5000 }, { ...success, at: start + 6000, session: 'refresh@127.0.0.6' }];
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dialguard-intrusion-'));
  const db = join(dir, 'dialguard.db');
  await seedPolicy(db, SITE);
  receiver = await startReceiver();
  const config = loadConfig({
    env: {
      DIALGUARD_DB: db,
      DIALGUARD_AGI_LISTEN: '127.0.0.1:0',
      DIALGUARD_HTTP_LISTEN: '127.0.0.1:0',
      DIALGUARD_HOME_COUNTRY: 'US',
      DIALGUARD_TIMEZONE: 'America/New_York',
      DIALGUARD_ADMIN_TOKEN: TOKEN,
      DIALGUARD_ALERT_WEBHOOK: receiver.url,
      DIALGUARD_ALERT_SECRET: SECRET,
    },
  });
  server = await startServer(config, createLogger('silent'));
}, 30_000);
afterAll(async () => {
  await server?.close();
  await receiver?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('an account taken over, end to end', () => {
  it('SuccessfulAuth for 1001 after the brute force: 1001 is locked at once, a signed webhook names the address and its failures, its calls are denied', async () => {
    expect((await authorize('1001', '127.0.0.6:5060')).DIALGUARD_RESULT).toBe('ALLOW');
    for (const event of breakIn()) server.intrusion.sink.accept(event);
    await server.intrusion.settled();

    const [request] = await receiver.waitFor(1);
    expect(verifySignature(SECRET, request?.headers[SIGNATURE_HEADER] as string, request?.body as string)).toBe(true);
    const payload = JSON.parse(request?.body as string) as AlertPayload;
    expect(payload).toMatchObject({ kind: 'lock', severity: 'error', extension: '1001', check: 'takeover', counter: 'sourceFailures', count: 12, limit: 10, country: null, locked: true, decisionId: null });
    // Counted to the minute: the refresh a second later may be in the same minute as the break-in.
    expect(payload.counts).toEqual({ sourceFailures: 12, networkFailures: 12, accountFailures: 12, accountSuccesses: expect.any(Number) });
    expect(payload.counts.accountSuccesses).toBeGreaterThanOrEqual(1);
    expect(payload.message).toBe(
      'Extension 1001 locked until an admin unlocks it: account 1001 authenticated from 127.0.0.6 (country unknown) after 12 failed authentications from it in the last 24 h',
    );

    const denied = await authorize('1001', '127.0.0.6:5060');
    expect([denied.DIALGUARD_RESULT, denied.DIALGUARD_REASON]).toEqual(['DENY', 'extension_locked']);
    // The other accounts are not locked.
    expect((await authorize('1002', '192.168.1.20:5060')).DIALGUARD_RESULT).toBe('ALLOW');

    const lock = (await (await api('/api/v1/extensions/1001')).json()) as { lock: { reason: string; actor: string } | null };
    expect(lock.lock).toMatchObject({ actor: 'dialguard' });
    const metrics = await (await api('/metrics')).text();
    expect(metrics).toMatch(/^dialguard_takeover_locks_total 1$/m);
    expect(metrics).toMatch(/^dialguard_sources_flagged 1$/m);
    expect(await (await api('/api/v1/sources/suspicious?format=plain')).text()).toBe('127.0.0.6\n');
  });

  it('the intruder’s REGISTER refresh is the same takeover: no second lock, no second alert', async () => {
    await new Promise((r) => setTimeout(r, 1500));
    expect(receiver.received).toHaveLength(1);
    const alerts = (await (await api('/api/v1/alerts?ext=1001')).json()) as { items: Array<{ kind: string; occurrences: number }> };
    expect(alerts.items.map((a) => [a.kind, a.occurrences])).toEqual([['lock', 1]]);
  });

  it('the office: a phone with one typo, then the right secret, is never flagged nor locked, and calls', async () => {
    const at = Date.now() - 5000;
    const base = { service: 'PJSIP', account: '2001', address: OFFICE } as const;
    server.intrusion.sink.accept({ ...base, kind: 'challenge_sent', at, detail: 'ChallengeSent', session: 'typo@office' });
    server.intrusion.sink.accept({ ...base, kind: 'failed_auth', at: at + 5, detail: 'ChallengeResponseFailed', session: 'typo@office' });
    server.intrusion.sink.accept({ ...base, kind: 'challenge_sent', at: at + 2000, detail: 'ChallengeSent', session: 'fixed@office' });
    server.intrusion.sink.accept({ ...base, kind: 'successful_auth', at: at + 2005, detail: 'SuccessfulAuth', session: 'fixed@office' });
    await server.intrusion.settled();
    expect((await (await api('/api/v1/extensions/2001')).json()) as { lock: unknown }).toMatchObject({ lock: null });
    expect(await (await api('/api/v1/sources/suspicious?format=plain')).text()).not.toContain(OFFICE);
    const call = await authorize('2001', `${OFFICE}:5060`);
    expect([call.DIALGUARD_RESULT, call.DIALGUARD_REASON]).toEqual(['ALLOW', 'allowed']);
    expect(receiver.received).toHaveLength(1);
  });
});
