import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { AlertDeliveryService } from '../../src/alerts/delivery.js';
import type { AlertPayload } from '../../src/alerts/payload.js';
import { SIGNATURE_HEADER, signatureHeader, verifySignature } from '../../src/alerts/signature.js';
import type { AlertsConfig } from '../../src/config/config.js';
import type { LogRecord } from '../agi/memory-logger.js';
import { tempGuard, type TempGuard } from '../support/temp-db.js';
import { guardWithBreach, OPEN_SITE, until, startFastDelivery } from './alert-fixture.js';
import { attackNumber, call } from './fixture.js';
import { closedPortUrl, startReceiver, type Receiver } from './receiver.js';

const SECRET = 'whsec-test-0123456789';

let t: TempGuard;
let delivery: AlertDeliveryService | undefined;
let receivers: Receiver[] = [];
let logs: LogRecord[];
afterEach(async () => {
  await delivery?.stop();
  delivery = undefined;
  await Promise.all(receivers.splice(0).map((r) => r.close()));
  await t?.close();
});

function start(config: Partial<AlertsConfig>): void {
  ({ delivery, logs } = startFastDelivery(t.store, { secret: SECRET, ...config }));
}

async function receiver(answer?: Parameters<typeof startReceiver>[0]): Promise<Receiver> {
  const r = await startReceiver(answer);
  receivers.push(r);
  return r;
}



async function breach(): Promise<string> {
  const made = await guardWithBreach();
  t = made.t;
  return made.id;
}

describe('alert webhooks', () => {
  it('POSTs each alert once, signed so that the receiver can check it came from dialguard', async () => {
    const id = await breach();
    const r = await receiver();
    start({ webhooks: [r.url] });
    const [request] = await r.waitFor(1);
    await until(async () => (await t.store.getAlert(id))?.delivery.status === 'delivered');

    const header = request?.headers[SIGNATURE_HEADER] as string;
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(verifySignature(SECRET, header, request?.body as string)).toBe(true);
    expect(verifySignature('another-secret', header, request?.body as string)).toBe(false);
    expect(verifySignature(SECRET, header, (request?.body as string).replace('1001', '1002'))).toBe(false);
    expect(request?.headers).toMatchObject({ 'content-type': 'application/json', 'x-dialguard-alert': id, 'x-dialguard-event': 'breach', 'x-dialguard-attempt': '1' });

    const payload = JSON.parse(request?.body as string) as AlertPayload;
    expect(payload).toMatchObject({
      id,
      kind: 'breach',
      severity: 'error',
      extension: '1001',
      check: 'velocity',
      counter: 'attemptsPerMinute',
      count: 11,
      limit: 10,
      windowSeconds: 60,
      shadow: false,
      locked: false,
      thresholds: { maxAttemptsPerMinute: 10 },
    });
    expect(payload.numbers).toHaveLength(11);
    expect(payload.decisionIds[0]).toBe(payload.decisionId);
    expect((await t.store.getAlert(id))?.delivery).toMatchObject({ status: 'delivered', attempts: 1, lastError: null });
    // Logged once, at error level for a breach.
    expect(logs.filter((l) => l.msg.startsWith('alert: '))).toEqual([expect.objectContaining({ level: 50, alertId: id, kind: 'breach', extension: '1001' })]);
    await sleep(100);
    expect(r.received).toHaveLength(1);
  });

  it('retries a receiver that is down with backoff, then marks the alert failed', async () => {
    const id = await breach();
    start({ webhooks: [await closedPortUrl()], maxAttempts: 3, retryBaseMs: 50 });
    const started = Date.now();
    await until(async () => (await t.store.getAlert(id))?.delivery.status === 'failed');
    // 50 ms, then 100 ms between the three attempts.
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect((await t.store.getAlert(id))?.delivery).toMatchObject({ status: 'failed', attempts: 3, nextAt: null, lastError: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+ unreachable \(ECONNREFUSED\)$/) });
    expect(logs.filter((l) => l.msg === 'alert delivery failed, will retry')).toHaveLength(2);
    expect(logs.find((l) => l.msg === 'alert delivery failed: no more retries')).toMatchObject({ level: 50, alertId: id, attempt: 3 });
    // The URL may hold a token: it is never logged or stored, only its origin.
    expect(JSON.stringify(logs)).not.toContain('/hooks/dialguard');
  });

  it('gives up on a receiver that does not answer in time, and delivers when it answers again', async () => {
    const id = await breach();
    const r = await receiver((n) => (n === 0 ? 'hang' : n === 1 ? 503 : 200));
    start({ webhooks: [r.url], timeoutMs: 100, maxAttempts: 5 });
    await until(async () => (await t.store.getAlert(id))?.delivery.status === 'delivered');
    expect(r.received.map((q) => q.headers['x-dialguard-attempt'])).toEqual(['1', '2', '3']);
    expect(logs.filter((l) => l.msg === 'alert delivery failed, will retry').map((l) => l.error)).toEqual([
      expect.stringMatching(/did not answer within 100 ms$/),
      expect.stringMatching(/answered HTTP 503$/),
    ]);
  });

  it('sends again only to the webhook that failed', async () => {
    const id = await breach();
    const up = await receiver();
    const flaky = await receiver((n) => (n === 0 ? 500 : 200));
    start({ webhooks: [up.url, flaky.url] });
    await until(async () => (await t.store.getAlert(id))?.delivery.status === 'delivered');
    expect(up.received).toHaveLength(1);
    expect(flaky.received).toHaveLength(2);
    expect((await t.store.getAlert(id))?.delivery.deliveredTo).toHaveLength(2);
  });

  it('without a webhook, logs the alert and marks it none', async () => {
    t = await tempGuard(OPEN_SITE);
    const now = Date.now();
    for (let i = 0; i < 4; i++) await t.guard.authorize(call('2001', attackNumber(i).number, new Date(now + i)));
    start({ webhooks: [] });
    await until(async () => (await t.store.listAlerts({}, { limit: 10 })).every((a) => a.delivery.status === 'none'));
    const levels = logs.filter((l) => l.msg.startsWith('alert: ')).map((l) => [l.kind, l.level]);
    expect(levels).toEqual(
      expect.arrayContaining([
        ['warn', 40],
        ['breach', 50],
        ['lock', 50],
      ]),
    );
    expect(levels).toHaveLength(5);
  });

  it('leaves an alert whose request was cut short by a stop pending, to be sent after the next start', async () => {
    const id = await breach();
    const r = await receiver(() => 'hang');
    start({ webhooks: [r.url], timeoutMs: 5000 });
    await r.waitFor(1);
    await delivery?.stop();
    delivery = undefined;
    expect((await t.store.getAlert(id))?.delivery).toMatchObject({ status: 'pending', attempts: 0 });
  });

  it('never makes a decision wait: authorizations go on at full speed while a webhook hangs', async () => {
    const id = await breach();
    const r = await receiver(() => 'hang');
    start({ webhooks: [r.url], timeoutMs: 5000 });
    await r.waitFor(1);
    const began = performance.now();
    for (let i = 0; i < 20; i++) await t.guard.authorize(call(`other${i}`, '12125550123', new Date()));
    expect(performance.now() - began).toBeLessThan(500);
    expect((await t.store.getAlert(id))?.delivery.status).toBe('pending');
  });
});

describe('verifySignature', () => {
  it('accepts a fresh signature of the exact body and refuses a stale or malformed one', () => {
    const body = '{"id":"x"}';
    const now = 1_800_000_000;
    const header = signatureHeader(SECRET, body, now);
    expect(verifySignature(SECRET, header, body, { now: now + 299 })).toBe(true);
    expect(verifySignature(SECRET, header, body, { now: now + 301 })).toBe(false);
    expect(verifySignature(SECRET, header, `${body} `, { now })).toBe(false);
    expect(verifySignature(SECRET, undefined, body, { now })).toBe(false);
    expect(verifySignature(SECRET, 't=abc,v1=00', body, { now })).toBe(false);
  });
});
