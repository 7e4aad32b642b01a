import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { SecurityEvent } from '../../src/domain/security.js';
import { testApp, type TestApp } from '../http/app-fixture.js';
import { captureEvents } from '../support/security-events.js';

/** GET /api/v1/sources/… over real HTTP, the tracker fed with the captured AMI events moved to just now. */

let t: TestApp;
let base: string;
afterEach(async () => t?.closeAll());

async function start(): Promise<void> {
  t = await testApp();
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
}

const get = (path: string, token: string | null = t.auditor): Promise<Response> =>
  fetch(`${base}${path}`, token === null ? {} : { headers: { authorization: `Bearer ${token}` } });

/** The capture, ending a minute ago: the API counts on the wall clock. */
function recent(events: SecurityEvent[]): SecurityEvent[] {
  const shift = Date.now() - 60_000 - Math.max(...events.map((e) => e.at));
  return events.map((e) => ({ ...e, at: e.at + shift }));
}

const failure = (address: string, at: number, account: string): SecurityEvent => ({ kind: 'invalid_account', at, service: 'PJSIP', account, address, detail: 'InvalidAccountID' });

describe('GET /api/v1/sources', () => {
  it('top sources, by country, the suspicious list and its firewall form, to an auditor', async () => {
    await start();
    for (const event of recent(captureEvents())) t.intrusion.sink.accept(event);
    // A scanner in Germany, 12 accounts.
    for (let i = 0; i < 12; i++) t.intrusion.sink.accept(failure('80.128.0.1', Date.now() - 30_000 + i, `${200 + i}`));

    const top = await get('/api/v1/sources/top?limit=3');
    expect(top.status).toBe(200);
    const topBody = (await top.json()) as { windowHours: number; failureThreshold: number; items: Array<Record<string, unknown>> };
    expect(topBody.windowHours).toBe(24);
    expect(topBody.failureThreshold).toBe(10);
    expect(topBody.items.map((s) => [s.address, s.failures, s.country])).toEqual([
      ['127.0.0.5', 13, null],
      ['80.128.0.1', 12, 'DE'],
      ['127.0.0.6', 4, null],
    ]);
    expect(topBody.items[0]).toMatchObject({ network: '127.0.0.0/24', successes: 0 });
    expect((topBody.items[0]?.accounts as string[]).length).toBe(13);
    expect(topBody.items[2]).toMatchObject({ accounts: ['1001'], successes: 3 });

    const countries = (await (await get('/api/v1/sources/countries')).json()) as { items: unknown[] };
    expect(countries.items).toEqual([
      { country: null, failures: 23, sources: 6 },
      { country: 'DE', failures: 12, sources: 1 },
    ]);

    // 127.0.0.5 alone passes the threshold; the other loopback addresses together make the range.
    const suspicious = (await (await get('/api/v1/sources/suspicious')).json()) as { items: unknown[] };
    expect(suspicious.items).toEqual([
      { entry: '127.0.0.0/24', kind: 'network', failures: 23, country: null },
      { entry: '80.128.0.1', kind: 'address', failures: 12, country: 'DE' },
    ]);
    const plain = await get('/api/v1/sources/suspicious?format=plain');
    expect(plain.status).toBe(200);
    expect(plain.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await plain.text()).toBe('127.0.0.0/24\n80.128.0.1\n');

    // 127.0.0.6 failed 4 times itself, but its range 23 times: its SuccessfulAuth for 1001 locked 1001, once.
    await t.intrusion.settled();
    expect((await t.store.getLock('1001'))?.reason).toMatch(/^taken over: account 1001 authenticated from 127\.0\.0\.6 \(country unknown\) after 4 failed authentications from it and \d+ from 127\.0\.0\.0\/24 in the last 24 h$/);
    const metrics = await (await get('/metrics')).text();
    expect(metrics).toMatch(/^dialguard_sources_flagged 2$/m);
    expect(metrics).toMatch(/^dialguard_takeover_locks_total 1$/m);
  });

  it('an empty list is an empty body, not a blank line', async () => {
    await start();
    const plain = await get('/api/v1/sources/suspicious?format=plain');
    expect(await plain.text()).toBe('');
    expect(((await (await get('/api/v1/sources/top')).json()) as { items: unknown[] }).items).toEqual([]);
  });

  it('recent successes from new places', async () => {
    await start();
    const at = Date.now() - 10_000;
    const success = (address: string, when: number): SecurityEvent => ({ kind: 'successful_auth', at: when, service: 'PJSIP', account: '1001', address, detail: 'SuccessfulAuth' });
    t.intrusion.sink.accept(success('80.128.0.1', at));
    t.intrusion.sink.accept(success('80.128.0.1', at + 1000));
    t.intrusion.sink.accept(success('81.128.0.1', at + 2000));
    const body = (await (await get('/api/v1/sources/new-places')).json()) as { items: unknown[] };
    expect(body.items).toEqual([{ at: new Date(at + 2000).toISOString(), account: '1001', address: '81.128.0.1', country: 'GB', newCountry: false, newAddress: true }]);
  });

  it('bounded and checked query strings, a token required', async () => {
    await start();
    expect((await get('/api/v1/sources/top', null)).status).toBe(401);
    expect((await get('/api/v1/sources/suspicious?format=plain', null)).status).toBe(401);
    for (const query of ['/top?limit=0', '/top?limit=101', '/top?limit=abc', '/top?other=1', '/new-places?limit=201', '/suspicious?format=xml']) {
      const response = await get(`/api/v1/sources${query}`);
      expect(response.status, query).toBe(400);
      expect(((await response.json()) as { error: string }).error, query).toBe('DG_VALIDATION');
    }
  });
});
