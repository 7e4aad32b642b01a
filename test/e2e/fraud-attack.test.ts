import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertPayload } from '../../src/alerts/payload.js';
import { SIGNATURE_HEADER, verifySignature } from '../../src/alerts/signature.js';
import { attackNumber, FOREIGN_SOURCE } from '../fraud/fixture.js';
import { closedPortUrl, startReceiver, type Receiver } from '../fraud/receiver.js';
import { authorizeEnv, playAsteriskSession, type AsteriskTranscript } from '../support/asterisk-agi.js';
import { seedPolicy } from '../support/seed.js';
import { logLines, startServe, type ServeProcess } from '../support/serve-process.js';

/**
 * The fraud scenarios played end to end: a real `dialguard serve`, the Asterisk double over
 * FastAGI, the admin API and a webhook receiver on 127.0.0.1. Calls are decided on the server's
 * clock, so these are the real-time scenarios (time travel is in test/fraud).
 */

const LAN = '192.168.1.20:5060';
const SECRET = 'e2e-alert-secret-0123456789';
const SITE = {
  defaults: { budget: { dailySpend: null, monthlySpend: null, dailyMinutes: null, maxConcurrent: null } },
  extensions: {
    victim: {},
    'open-victim': { destinations: { allowCountries: ['*'] }, geofence: { allowCountries: ['*'] } },
    agents: {
      destinations: { allowCountries: ['US', 'CA'] },
      velocity: { maxAttemptsPerMinute: 120, maxInternationalPerHour: 100, maxDistinctDestinationsPerHour: 1000, maxDeniedPerHour: 30 },
    },
    trial: { mode: 'shadow' },
  },
  // Cheap everywhere: the budgets and the site circuit breaker stay out of the way of velocity.
  rates: [{ prefix: '+', perMinute: 0.01, increment: 60 }],
};

const vars = (t: AsteriskTranscript) => Object.fromEntries(t.variables);

interface Site {
  dir: string;
  serve: ServeProcess;
  /** The admin API under /api/v1, as admin. */
  api(path: string, init?: RequestInit): Promise<Response>;
  metrics(): Promise<string>;
  authorize(ext: string, number: string, source?: string, origin?: string): Promise<Record<string, string>>;
  close(): Promise<void>;
}

async function startSite(env: Record<string, string>): Promise<Site> {
  const dir = mkdtempSync(join(tmpdir(), 'dialguard-fraud-'));
  const db = join(dir, 'dialguard.db');
  await seedPolicy(db, SITE);
  const serve = await startServe(db, env);
  return {
    dir,
    serve,
    api: (path, init = {}) =>
      fetch(`http://127.0.0.1:${serve.httpPort}/api/v1${path}`, { ...init, headers: { authorization: `Bearer ${serve.adminToken}`, ...(init.headers ?? {}) } }),
    metrics: async () => (await fetch(`http://127.0.0.1:${serve.httpPort}/metrics`, { headers: { authorization: `Bearer ${serve.adminToken}` } })).text(),
    async authorize(ext, number, source = LAN, origin = 'phone') {
      return vars(await playAsteriskSession({ port: serve.agiPort, env: authorizeEnv({ ext, number, source, origin }) }));
    },
    async close() {
      await serve.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`still not there: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface AlertView {
  id: string;
  kind: string;
  ext: string;
  counter: string | null;
  decisionId: string;
  delivery: { status: string; attempts: number; lastError: string | null };
}

describe('with a webhook receiver listening', () => {
  let site: Site;
  let receiver: Receiver;

  beforeAll(async () => {
    receiver = await startReceiver();
    site = await startSite({ DIALGUARD_ALERT_WEBHOOK: receiver.url, DIALGUARD_ALERT_SECRET: SECRET });
  });
  afterAll(async () => {
    await site?.close();
    await receiver?.close();
  });

  const alerts = async (query: string) => ((await (await site.api(`/alerts?${query}`)).json()) as { items: AlertView[] }).items;

  it('stops the classic attack on a secure site at its 11th call, locks the extension and raises signed alerts', async () => {
    // The extension's normal day: two calls at home.
    expect((await site.authorize('victim', '12125550123')).DIALGUARD_RESULT).toBe('ALLOW');
    expect((await site.authorize('victim', '13125550188')).DIALGUARD_RESULT).toBe('ALLOW');

    // Then, from a German address: 40 numbers in 6 countries, as fast as Asterisk lets it.
    const answers: Array<Record<string, string>> = [];
    for (let i = 0; i < 40; i++) answers.push(await site.authorize('victim', attackNumber(i).number, FOREIGN_SOURCE));
    expect(answers.every((a) => a.DIALGUARD_RESULT === 'DENY' && a.DIALGUARD_LIMIT_MS === '0')).toBe(true);
    const reasons = answers.map((a) => a.DIALGUARD_REASON);
    expect(reasons.slice(0, 10)).toEqual(Array(10).fill('destination_country_denied'));
    expect(reasons[10]).toBe('velocity_exceeded');
    expect(answers[10]?.DIALGUARD_MESSAGE).toMatch(/denied: too many calls in a short time$/);
    expect(reasons.slice(11)).toEqual(Array(29).fill('extension_locked'));

    const stopping = answers[10]?.DIALGUARD_CALL_ID;
    const extension = (await (await site.api('/extensions/victim')).json()) as { lock: { actor: string; reason: string } };
    expect(extension.lock).toMatchObject({ actor: 'dialguard', reason: expect.stringContaining('11 attempts denied by the policy in the last hour, limit 10') });

    const [lock, breach] = await alerts('ext=victim');
    expect(lock).toMatchObject({ kind: 'lock', decisionId: stopping });
    expect(breach).toMatchObject({ kind: 'breach', counter: 'deniedPerHour', decisionId: stopping });

    // Delivered off the decision path, signed with the shared secret.
    const requests = await eventually(
      async () => receiver.received.filter((r) => (JSON.parse(r.body) as AlertPayload).extension === 'victim'),
      (found) => found.some((r) => (JSON.parse(r.body) as AlertPayload).kind === 'lock'),
    );
    const lockRequest = requests.find((r) => (JSON.parse(r.body) as AlertPayload).kind === 'lock');
    expect(verifySignature(SECRET, lockRequest?.headers[SIGNATURE_HEADER] as string, lockRequest?.body as string)).toBe(true);
    expect(JSON.parse(lockRequest?.body as string)).toMatchObject({ extension: 'victim', decisionId: stopping, locked: true, counts: { deniedPerHour: 11 } });
    const logged = logLines(site.serve.output).find((l) => l.alertId === lock?.id);
    expect(logged).toMatchObject({ level: 50, kind: 'lock', extension: 'victim' });

    // 911 still goes through; an admin unlock gives the extension a fresh start.
    expect((await site.authorize('victim', '911', FOREIGN_SOURCE)).DIALGUARD_REASON).toBe('emergency');
    expect((await site.api('/extensions/victim/unlock', { method: 'POST' })).status).toBe(200);
    expect((await site.authorize('victim', '12125550123')).DIALGUARD_REASON).toBe('allowed');
  });

  it('stops the attack at its 4th call on a site open to every country and source: the fourth new country in an hour', async () => {
    const answers: Array<Record<string, string>> = [];
    for (let i = 0; i < 40; i++) answers.push(await site.authorize('open-victim', attackNumber(i).number, FOREIGN_SOURCE));
    expect(answers.slice(0, 3).map((a) => a.DIALGUARD_RESULT)).toEqual(['ALLOW', 'ALLOW', 'ALLOW']);
    expect(answers.slice(0, 3).map((a) => a.DIALGUARD_COUNTRY)).toEqual(['GB', 'DE', 'FR']);
    expect(answers[3]).toMatchObject({ DIALGUARD_RESULT: 'DENY', DIALGUARD_REASON: 'velocity_exceeded', DIALGUARD_COUNTRY: 'IT' });
    expect(answers.slice(4).every((a) => a.DIALGUARD_REASON === 'extension_locked')).toBe(true);

    const found = await alerts('ext=open-victim');
    expect(found.map((a) => [a.kind, a.counter])).toEqual([
      ['lock', 'newCountriesPerHour'],
      ['breach', 'newCountriesPerHour'],
      ['warn', 'newCountry'],
      ['warn', 'newCountry'],
      ['warn', 'newCountry'],
    ]);
    expect(found[0]?.decisionId).toBe(answers[3]?.DIALGUARD_CALL_ID);
  });

  it('never locks a busy call-centre line below its own thresholds', async () => {
    const answers: Array<Record<string, string>> = [];
    for (let i = 0; i < 60; i++) {
      const number = i % 10 === 0 ? `1416555${String(1000 + i)}` : `1212555${String(2000 + i)}`;
      answers.push(await site.authorize('agents', number));
    }
    expect(answers.map((a) => a.DIALGUARD_REASON)).toEqual(Array(60).fill('allowed'));
    const extension = (await (await site.api('/extensions/agents')).json()) as { lock: unknown };
    expect(extension.lock).toBeNull();
    expect((await alerts('ext=agents')).filter((a) => a.kind !== 'warn')).toEqual([]);
  });

  it('in shadow mode allows every call, audits each would-be denial, and counts them apart in the metrics', async () => {
    const calls: Array<[string, string, string]> = [
      ['18765551234', LAN, 'phone'], // Jamaica: another country
      ['19002345678', LAN, 'phone'], // premium rate
      ['13125550123', FOREIGN_SOURCE, 'phone'], // a German source
      ['13125550123', LAN, 'voicemail'], // voicemail dial-out
      ['12345', LAN, 'phone'], // not a number
    ];
    const answers: Array<Record<string, string>> = [];
    for (const [number, source, origin] of calls) answers.push(await site.authorize('trial', number, source, origin));
    // Eleven quick calls at home: enforce mode would stop the eleventh and lock the line.
    for (let i = 0; i < 11; i++) answers.push(await site.authorize('trial', '12125550123'));
    expect(answers.every((a) => a.DIALGUARD_RESULT === 'ALLOW' && a.DIALGUARD_REASON === 'allowed' && a.DIALGUARD_LIMIT_MS === '3600000')).toBe(true);
    expect(answers[0]?.DIALGUARD_MESSAGE).toBe('Call to Jamaica allowed, limit 60 min (shadow mode; would be denied: destination_country_denied)');

    const denials = (await (await site.api('/shadow-denials?ext=trial&limit=100')).json()) as { items: Array<{ id: string; wouldReason: string }> };
    expect(denials.items.map((d) => d.wouldReason).reverse()).toEqual([
      'destination_country_denied',
      'destination_type_denied',
      'source_country_denied',
      'voicemail_callout_denied',
      'number_invalid',
      'velocity_exceeded',
    ]);
    expect(denials.items[0]?.id).toBe(answers[15]?.DIALGUARD_CALL_ID);

    // The audit's own list shows them too, apart from the rest: marked, and filtered with wouldDeny=true.
    const all = (await (await site.api('/decisions?ext=trial&limit=100')).json()) as { items: Array<{ id: string; mode: string; wouldDeny: boolean; wouldReason: string | null }> };
    expect(all.items).toHaveLength(16);
    expect(all.items.every((d) => d.mode === 'shadow')).toBe(true);
    expect(all.items.filter((d) => d.wouldDeny).map((d) => d.id)).toEqual(denials.items.map((d) => d.id));
    const filtered = (await (await site.api('/decisions?ext=trial&wouldDeny=true&limit=100')).json()) as { items: Array<{ id: string; wouldReason: string }> };
    expect(filtered.items.map((d) => [d.id, d.wouldReason])).toEqual(denials.items.map((d) => [d.id, d.wouldReason]));

    const extension = (await (await site.api('/extensions/trial')).json()) as { lock: unknown };
    expect(extension.lock).toBeNull();
    const [breach] = await alerts('ext=trial&kind=breach');
    expect(breach).toMatchObject({ counter: 'attemptsPerMinute', shadow: true });

    const metrics = await site.metrics();
    expect(metrics).toMatch(/dialguard_shadow_denials_total\{reason="destination_country_denied",transport="agi"\} 1/);
    expect(metrics).toMatch(/dialguard_shadow_denials_total\{reason="velocity_exceeded",transport="agi"\} 1/);
  });
});

describe('with the webhook receiver down', () => {
  let site: Site;
  beforeAll(async () => {
    site = await startSite({
      DIALGUARD_ALERT_WEBHOOK: await closedPortUrl(),
      DIALGUARD_ALERT_SECRET: SECRET,
      DIALGUARD_ALERT_MAX_ATTEMPTS: '3',
      DIALGUARD_ALERT_RETRY_MS: '100',
      DIALGUARD_ALERT_TIMEOUT_MS: '500',
    });
  });
  afterAll(async () => site?.close());

  it('decides every call as usual, retries the alerts, and finally marks them failed', async () => {
    const latencies: number[] = [];
    const answers: Array<Record<string, string>> = [];
    for (let i = 0; i < 8; i++) {
      const started = performance.now();
      answers.push(await site.authorize('open-victim', attackNumber(i).number, FOREIGN_SOURCE));
      latencies.push(performance.now() - started);
    }
    expect(answers.map((a) => a.DIALGUARD_REASON)).toEqual(['allowed', 'allowed', 'allowed', 'velocity_exceeded', ...Array(4).fill('extension_locked')]);
    // Each session is answered at once (a few ms; the bound leaves room for a loaded test machine): nothing waits for the webhook.
    expect(Math.max(...latencies)).toBeLessThan(1000);

    const read = async () => ((await (await site.api('/alerts?ext=open-victim')).json()) as { items: AlertView[] }).items;
    const settled = await eventually(read, (items) => items.length === 5 && items.every((a) => a.delivery.status === 'failed'));
    for (const alert of settled) {
      expect(alert.delivery).toMatchObject({ status: 'failed', attempts: 3, lastError: expect.stringMatching(/unreachable \(ECONNREFUSED\)$/) });
    }
    const retries = logLines(site.serve.output).filter((l) => l.msg === 'alert delivery failed, will retry');
    expect(retries.length).toBe(10);
    // The guard kept serving.
    expect((await site.authorize('victim', '12125550123')).DIALGUARD_RESULT).toBe('ALLOW');
  });
});
