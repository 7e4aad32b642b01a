import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertPayload } from '../../src/alerts/payload.js';
import { startReceiver, type Receiver } from '../fraud/receiver.js';
import { authorizeEnv, playAsteriskSession, settleEnv } from '../support/asterisk-agi.js';
import { seedPolicy } from '../support/seed.js';
import { startServe, type ServeProcess } from '../support/serve-process.js';

/**
 * The site-wide checks end to end: a real `dialguard serve`, the Asterisk double over FastAGI,
 * the admin API and a webhook receiver. Several extensions, as an attacker holding several
 * stolen accounts uses them.
 */

const SITE = {
  defaults: {
    destinations: { allowCountries: ['*'] },
    geofence: { allowCountries: ['*'] },
    budget: { dailySpend: null, monthlySpend: null, dailyMinutes: null, maxConcurrent: null },
    sources: { maxConcurrentPerSource: 4 },
    spread: { maxExtensionsPerDestination: 3 },
  },
  extensions: Object.fromEntries(['2001', '2002', '2003', '2004', '2005', '2006', '2007'].map((ext) => [ext, {}])),
  rates: [{ prefix: '+', perMinute: 0.01, increment: 60 }],
};
/** One number abroad, as an IRSF run dials it from every account. */
const ABROAD = '011442079460000';
const ATTACKER = '203.0.113.50:5060';

const lan = (i: number) => `192.168.1.${20 + i}:5060`;

describe('calls across extensions, through FastAGI', () => {
  let dir: string;
  let serve: ServeProcess;
  let receiver: Receiver;

  beforeAll(async () => {
    receiver = await startReceiver();
    dir = mkdtempSync(join(tmpdir(), 'dialguard-site-checks-'));
    const db = join(dir, 'dialguard.db');
    await seedPolicy(db, SITE);
    serve = await startServe(db, { DIALGUARD_ALERT_WEBHOOK: receiver.url, DIALGUARD_ALERT_SECRET: 'e2e-site-secret-0123456789' });
  });
  afterAll(async () => {
    await serve?.stop();
    await receiver?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const authorize = async (ext: string, number: string, source: string) =>
    Object.fromEntries((await playAsteriskSession({ port: serve.agiPort, env: authorizeEnv({ ext, number, source, origin: 'phone' }) })).variables);
  const api = async (path: string) => (await fetch(`http://127.0.0.1:${serve.httpPort}/api/v1${path}`, { headers: { authorization: `Bearer ${serve.adminToken}` } })).json();

  it('denies the fourth extension calling one number abroad with destination_spread, and alerts once for the number', async () => {
    const answers = [];
    for (const [i, ext] of ['2001', '2002', '2003', '2004', '2005'].entries()) answers.push(await authorize(ext, ABROAD, lan(i)));
    expect(answers.map((a) => a.DIALGUARD_REASON)).toEqual(['allowed', 'allowed', 'allowed', 'destination_spread', 'destination_spread']);
    expect(answers[3]).toMatchObject({ DIALGUARD_RESULT: 'DENY', DIALGUARD_LIMIT_MS: '0' });
    expect(answers[3]?.DIALGUARD_MESSAGE).toMatch(/denied: too many extensions called this number recently$/);
    // One that already called it goes on.
    expect((await authorize('2001', ABROAD, lan(0))).DIALGUARD_REASON).toBe('allowed');

    const { items } = (await api('/alerts?kind=breach')) as { items: Array<{ check: string; ext: string; occurrences: number; decisionId: string }> };
    const spread = items.filter((a) => a.check === 'destination_spread');
    expect(spread).toHaveLength(1);
    expect(spread[0]).toMatchObject({ ext: '2004', occurrences: 2, decisionId: answers[3]?.DIALGUARD_CALL_ID });
    // Nobody is locked: the extensions may be colleagues.
    expect(((await api('/extensions/2004')) as { lock: unknown }).lock).toBeNull();

    const delivered = await eventually(() => receiver.received.map((r) => JSON.parse(r.body) as AlertPayload).filter((p) => p.check === 'destination_spread'));
    expect(delivered[0]).toMatchObject({ kind: 'breach', extension: '2004', counter: 'extensionsPerDestination', count: 4, limit: 3, windowSeconds: 3600, locked: false });
    expect(delivered[0]?.message).toMatch(/^Extension 2004: 3 other extensions called \+442079460000 in the last hour, limit 3$/);
  });

  it('lets no more than maxConcurrentPerSource calls up at once from one address across extensions, and one more once a call ends', async () => {
    const exts = ['2001', '2002', '2003', '2004', '2005', '2006', '2007'];
    // All at once, each extension calling its own domestic number.
    const answers = await Promise.all(exts.map((ext, i) => authorize(ext, `1212555${String(3000 + i)}`, ATTACKER)));
    const allowed = answers.filter((a) => a.DIALGUARD_RESULT === 'ALLOW');
    expect(allowed).toHaveLength(4);
    expect(answers.filter((a) => a.DIALGUARD_RESULT === 'DENY').map((a) => a.DIALGUARD_REASON)).toEqual(['source_concurrency', 'source_concurrency', 'source_concurrency']);
    expect(answers.find((a) => a.DIALGUARD_REASON === 'source_concurrency')?.DIALGUARD_MESSAGE).toMatch(/denied: too many calls at once from this network address$/);
    // Another address is not held back by this one's calls.
    expect((await authorize('2007', '12125554000', '198.51.100.9:5060')).DIALGUARD_REASON).toBe('allowed');

    // A call ends (settled by the hangup handler): its slot is free for the next one from the address.
    await playAsteriskSession({ port: serve.agiPort, env: settleEnv({ callId: allowed[0]?.DIALGUARD_CALL_ID as string, answeredTime: '42', dialStatus: 'ANSWER' }) });
    expect((await authorize('2006', '12125554001', ATTACKER)).DIALGUARD_REASON).toBe('allowed');
    expect((await authorize('2005', '12125554002', ATTACKER)).DIALGUARD_REASON).toBe('source_concurrency');
  });
});

async function eventually<T>(read: () => T[], timeoutMs = 15_000): Promise<T[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value.length > 0) return value;
    if (Date.now() > deadline) throw new Error('nothing arrived');
    await new Promise((r) => setTimeout(r, 100));
  }
}
