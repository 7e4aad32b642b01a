import { afterEach, describe, expect, it } from 'vitest';
import type { PolicyDocument } from '../../src/policy/document.js';
import { testApp, type TestApp } from '../http/app-fixture.js';
import { attackNumber, call } from './fixture.js';

/** The admin API's fraud routes on a temporary database, with calls decided through the guard. */

const OPEN_SITE: PolicyDocument = {
  defaults: {
    destinations: { allowCountries: ['*'] },
    geofence: { allowCountries: ['*'] },
    budget: { dailySpend: null, monthlySpend: null, dailyMinutes: null, maxConcurrent: null },
  },
  extensions: { trial: { mode: 'shadow', destinations: { allowCountries: ['US'] }, geofence: { allowCountries: ['US'] } } },
  rates: [{ prefix: '+', perMinute: 0.01, increment: 60 }],
};

let t: TestApp;
afterEach(async () => t?.closeAll());

async function get(url: string, token = t.auditor) {
  const response = await t.app.inject({ url: `/api/v1${url}`, headers: t.as(token) });
  return { status: response.statusCode, body: response.json() as Record<string, unknown> };
}
async function post(url: string, token = t.admin, payload?: unknown) {
  const response = await t.app.inject({ method: payload === undefined ? 'POST' : 'PUT', url: `/api/v1${url}`, headers: t.as(token), payload: payload as object });
  return { status: response.statusCode, body: response.json() as Record<string, unknown> };
}

/** Four calls to four new countries within a second: the fourth breaches novelty and locks 2001. */
async function attack(): Promise<string[]> {
  const start = Date.now() - 10_000;
  const ids: string[] = [];
  for (let i = 0; i < 4; i++) ids.push((await t.guard.authorize(call('2001', attackNumber(i).number, new Date(start + i * 100), '80.128.0.1:5060'))).callId);
  return ids;
}

interface AlertItem {
  id: string;
  kind: string;
  ext: string;
  counter: string | null;
  decisionId: string;
  acknowledged: unknown;
  details: { numbers: string[]; decisionIds: string[] };
}

describe('GET /api/v1/alerts', () => {
  it('lists the breach, the lock and the warnings of an attack, newest first, to an auditor', async () => {
    t = await testApp(OPEN_SITE);
    const ids = await attack();
    const { status, body } = await get('/alerts');
    expect(status).toBe(200);
    const items = body.items as AlertItem[];
    expect(items.map((a) => [a.kind, a.counter])).toEqual([
      ['lock', 'newCountriesPerHour'],
      ['breach', 'newCountriesPerHour'],
      ['warn', 'newCountry'],
      ['warn', 'newCountry'],
      ['warn', 'newCountry'],
    ]);
    const breach = items[1] as AlertItem;
    expect(breach).toMatchObject({ ext: '2001', decisionId: ids[3], acknowledged: null, delivery: { status: 'pending', attempts: 0 } });
    expect(breach.details.decisionIds).toEqual([...ids].reverse());
    expect(breach.details.numbers[0]).toBe('+390645678010');
    expect(breach.details).toMatchObject({ count: 4, limit: 3, windowSeconds: 3600, locked: true, thresholds: { maxNewCountriesPerHour: 3, lockOnBreach: true } });
  });

  it('filters by extension, kind and acknowledgement, and pages with a cursor', async () => {
    t = await testApp(OPEN_SITE);
    await attack();
    expect(((await get('/alerts?kind=lock')).body.items as AlertItem[]).map((a) => a.kind)).toEqual(['lock']);
    expect((await get('/alerts?ext=1001')).body.items).toEqual([]);
    const first = await get('/alerts?limit=2');
    expect((first.body.items as AlertItem[]).map((a) => a.kind)).toEqual(['lock', 'breach']);
    const second = await get(`/alerts?limit=2&cursor=${first.body.nextCursor as string}`);
    expect((second.body.items as AlertItem[]).map((a) => a.kind)).toEqual(['warn', 'warn']);
    expect((await get('/alerts?acknowledged=false')).body.items).toHaveLength(5);
    expect((await get('/alerts?kind=everything')).status).toBe(400);
  });
});

describe('POST /api/v1/alerts/:id/ack', () => {
  it('records who acknowledged an alert, keeps the first acknowledgement, and unlocks nothing', async () => {
    t = await testApp(OPEN_SITE);
    await attack();
    const [lock] = (await get('/alerts?kind=lock')).body.items as AlertItem[];
    const acked = await post(`/alerts/${lock?.id}/ack`);
    expect(acked).toMatchObject({ status: 200, body: { id: lock?.id, acknowledged: { by: 'alice' } } });
    const again = await post(`/alerts/${lock?.id}/ack`);
    expect(again.body.acknowledged).toEqual(acked.body.acknowledged);
    expect((await get('/alerts?acknowledged=true')).body.items).toHaveLength(1);
    expect(await t.store.getLock('2001')).not.toBeNull();
    expect((await get(`/alerts/${lock?.id}`)).body).toMatchObject({ acknowledged: { by: 'alice' } });
  });

  it('is for admins only, and answers 404 for an unknown alert', async () => {
    t = await testApp(OPEN_SITE);
    await attack();
    const [lock] = (await get('/alerts')).body.items as AlertItem[];
    expect((await post(`/alerts/${lock?.id}/ack`, t.auditor)).status).toBe(403);
    expect((await post('/alerts/01JD0000000000000000000000/ack')).body).toMatchObject({ error: 'DG_NOT_FOUND' });
    expect((await get('/alerts/42')).status).toBe(400);
  });
});

describe('the circuit breaker over the API', () => {
  it('shows the breaker to an auditor, lets an admin set the limit and reset it', async () => {
    t = await testApp(OPEN_SITE);
    expect(await get('/circuit-breaker')).toMatchObject({
      status: 200,
      body: { state: 'closed', internationalSpendLastHour: 0, internationalSpendPerHour: 500, currency: 'USD', openedBy: null },
    });
    expect((await post('/circuit-breaker', t.auditor, { internationalSpendPerHour: 1 })).status).toBe(403);
    expect((await post('/circuit-breaker', t.admin, { internationalSpendPerHour: -1 })).status).toBe(400);
    expect(await post('/circuit-breaker', t.admin, { internationalSpendPerHour: 0.5 })).toMatchObject({ status: 200, body: { internationalSpendPerHour: 0.5 } });

    // A one-hour call to London at 0.01 a minute reserves 0.60: over 0.50.
    const d = await t.guard.authorize(call('1001', '011442079460000', new Date()));
    expect(d.reason).toBe('velocity_exceeded');
    expect((await get('/circuit-breaker')).body).toMatchObject({ state: 'open', openedBy: { ext: '1001', callId: d.callId } });
    expect((await post('/circuit-breaker/reset', t.auditor)).status).toBe(403);
    expect(await post('/circuit-breaker/reset')).toMatchObject({ status: 200, body: { state: 'closed', resetBy: 'alice' } });
  });
});

describe('GET /api/v1/shadow-denials', () => {
  it('lists the calls shadow mode let through with the reason enforce mode would have given and every failed check', async () => {
    t = await testApp(OPEN_SITE);
    const jamaica = await t.guard.authorize(call('trial', '18765551234', new Date(), '80.128.0.1:5060'));
    const premium = await t.guard.authorize(call('trial', '19002345678', new Date()));
    const fine = await t.guard.authorize(call('trial', '12125550123', new Date()));
    for (const d of [jamaica, premium, fine]) expect(d).toMatchObject({ result: 'ALLOW', reason: 'allowed' });

    const { body } = await get('/shadow-denials');
    expect(body.items).toMatchObject([
      { id: premium.callId, ext: 'trial', wouldReason: 'destination_type_denied', limitMs: 3_600_000 },
      {
        id: jamaica.callId,
        wouldReason: 'destination_country_denied',
        failedChecks: [
          { name: 'destination', reason: 'destination_country_denied' },
          { name: 'geofence', reason: 'source_country_denied' },
        ],
      },
    ]);
    expect(((await get('/shadow-denials?reason=destination_country_denied')).body.items as Array<{ id: string }>).map((d) => d.id)).toEqual([jamaica.callId]);
    // The audit keeps what enforce mode would have done.
    expect(await t.store.getDecision(jamaica.callId)).toMatchObject({ result: 'ALLOW', mode: 'shadow', wouldDeny: true, wouldReason: 'destination_country_denied' });
    expect(await t.store.getDecision(fine.callId)).toMatchObject({ mode: 'shadow', wouldDeny: false, wouldReason: 'allowed' });
  });
});
