import { afterEach, describe, expect, it } from 'vitest';
import type { DecisionRequest } from '../../src/domain/decision.js';
import { PROBE_INTERVAL_MS } from '../../src/http/routes/health.js';
import { testApp, type TestApp } from './app-fixture.js';

let t: TestApp;
afterEach(async () => t?.closeAll());

const call = async (number: string, at = new Date(), extension = '1001') => {
  const request: DecisionRequest = { extension, dialled: number, source: '10.0.0.5:5060', origin: 'phone', at, transport: 'agi' };
  return await t.guard.authorize(request);
};

async function read(url: string) {
  const response = await t.app.inject({ url, headers: t.as(t.auditor) });
  return { status: response.statusCode, body: response.json() as Record<string, unknown> };
}

describe('usage against the budgets', () => {
  it('shows today’s and this month’s spend, minutes and the calls in progress with their limits', async () => {
    t = await testApp({ extensions: { '1001': { budget: { dailySpend: 10, maxConcurrent: 3 } } } });
    const settled = await call('2125550123');
    await t.guard.settle({ callId: settled.callId, answeredSeconds: 120, dialStatus: 'ANSWER', at: new Date() });
    const active = await call('3125550123');
    const { status, body } = await read('/api/v1/usage/1001');
    expect(status).toBe(200);
    expect(body).toMatchObject({
      ext: '1001',
      currency: 'USD',
      timezone: 'America/New_York',
      today: { spend: 0.04 + 1.2, spendLimit: 10, minutes: 2 + 60, minutesLimit: 600 },
      month: { spend: 0.04 + 1.2, spendLimit: 300 },
      activeCalls: { count: 1, limit: 3, calls: [{ callId: active.callId, e164: '+13125550123', limitSeconds: 3600, reservedCost: 1.2 }] },
    });
    expect((body.today as { date: string }).date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it('a dry run, /usage and the real call agree once a reservation never settled has expired', async () => {
    t = await testApp({ extensions: { '1001': { budget: { maxConcurrent: 1 } } } });
    const stale = await call('2125550123', new Date(Date.now() - 2 * 3600_000)); // two hours ago, never settled
    expect(stale.result).toBe('ALLOW');
    const simulated = await t.app.inject({
      method: 'POST',
      url: '/api/v1/simulate',
      headers: t.as(t.auditor),
      payload: { ext: '1001', number: '2125550124', source: '10.0.0.5:5060' },
    });
    expect(simulated.json()).toMatchObject({ result: 'ALLOW', reason: 'allowed' });
    expect((await read('/api/v1/usage/1001')).body).toMatchObject({ activeCalls: { count: 0, limit: 1, calls: [] } });
    expect((await call('2125550124')).result).toBe('ALLOW');
    expect((await read('/api/v1/usage/1001')).body).toMatchObject({ activeCalls: { count: 1, limit: 1 } });
  });

  it('shows an extension that never called as zero against the defaults', async () => {
    t = await testApp();
    expect((await read('/api/v1/usage/4711')).body).toMatchObject({ today: { spend: 0, spendLimit: 25 }, activeCalls: { count: 0, limit: 2, calls: [] } });
  });

  it('lists every call in progress, and drops a settled one', async () => {
    t = await testApp();
    const a = await call('2125550123', new Date(Date.now() - 1000));
    const b = await call('2125550124', new Date(), '1002');
    expect((await read('/api/v1/calls/active')).body.items).toMatchObject([{ callId: a.callId, ext: '1001' }, { callId: b.callId, ext: '1002' }]);
    await t.guard.settle({ callId: a.callId, answeredSeconds: 10, dialStatus: 'ANSWER', at: new Date() });
    expect((await read('/api/v1/calls/active')).body.items).toMatchObject([{ callId: b.callId }]);
  });

  it('refuses a bad extension name', async () => {
    t = await testApp();
    expect((await read('/api/v1/usage/a%2Fb')).status).toBe(400);
  });
});

describe('simulate', () => {
  it('returns the decision without reserving or auditing anything', async () => {
    t = await testApp();
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/simulate',
      headers: t.as(t.admin),
      payload: { ext: '1001', number: '0115352123456', source: '80.128.0.1:5060', at: '2026-11-21T03:12:00-05:00' },
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ result: 'DENY', reason: 'destination_country_denied', country: 'CU', limitMs: 0, reservation: null });
    const allowed = await t.app.inject({ method: 'POST', url: '/api/v1/simulate', headers: t.as(t.admin), payload: { ext: '1001', number: '2125550123', source: '10.0.0.5' } });
    expect(allowed.json()).toMatchObject({ result: 'ALLOW', reservation: { seconds: 3600, cost: 1.2, ratePrefix: '+1' } });
    expect((await read('/api/v1/decisions')).body.items).toEqual([]);
    expect((await read('/api/v1/calls/active')).body.items).toEqual([]);
  });

  it('refuses a request without a number or with a bad time', async () => {
    t = await testApp();
    const post = (payload: unknown) => t.app.inject({ method: 'POST', url: '/api/v1/simulate', headers: t.as(t.admin), payload: payload as string });
    expect((await post({ ext: '1001' })).json()).toMatchObject({ error: 'DG_VALIDATION', details: [{ field: '/number', message: 'required field "number" is missing' }] });
    expect((await post({ ext: '1001', number: '911', at: 'tomorrow' })).json()).toMatchObject({ details: [{ field: '/at' }] });
    expect((await post({ ext: '1001', number: '911', transport: 'agi' })).statusCode).toBe(400);
  });
});

describe('probes and metrics', () => {
  it('healthz answers while the process is up', async () => {
    t = await testApp();
    expect(await t.app.inject({ url: '/healthz' }).then((r) => r.json())).toEqual({ status: 'ok' });
  });

  it('readyz is 503 until FastAGI listens, and when the database cannot be written', async () => {
    t = await testApp();
    expect((await t.app.inject({ url: '/readyz' })).json()).toEqual({ status: 'ready', checks: { database: true, agi: true } });
    t.readiness.agi = false;
    t.readiness.ari = true;
    const notListening = await t.app.inject({ url: '/readyz' });
    expect(notListening.statusCode).toBe(503);
    expect(notListening.json()).toEqual({ status: 'not ready', checks: { database: true, agi: false, ari: true }, reasons: ['FastAGI is not listening'] });
    t.readiness.agi = true;
    t.store.close();
    // The database is probed at most once a second.
    await new Promise((resolve) => setTimeout(resolve, PROBE_INTERVAL_MS));
    expect((await t.app.inject({ url: '/readyz' })).json()).toMatchObject({ status: 'not ready', checks: { database: false }, reasons: [expect.stringMatching(/^the database cannot be written: /)] });
  });

  it('exposes decisions, latency, active reservations, settlements and errors to Prometheus', async () => {
    t = await testApp();
    const { callId } = await call('2125550123');
    await call('2125550124');
    t.metrics.observeDecision({ result: 'ALLOW', reason: 'allowed' }, 'agi', 0.0021);
    t.metrics.observeDecision({ result: 'DENY', reason: 'destination_high_risk' }, 'agi', 0.0009);
    t.metrics.observeSettlement('settled');
    t.metrics.observeError('DG_DEADLINE');
    await t.guard.settle({ callId, answeredSeconds: 30, dialStatus: 'ANSWER', at: new Date() });
    const response = await t.app.inject({ url: '/metrics', headers: t.as(t.auditor) });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = response.body;
    expect(text).toContain('dialguard_decisions_total{result="ALLOW",reason="allowed",transport="agi"} 1');
    expect(text).toContain('dialguard_decisions_total{result="DENY",reason="destination_high_risk",transport="agi"} 1');
    expect(text).toContain('dialguard_decision_latency_seconds_bucket{le="0.0025",transport="agi"} 2');
    expect(text).toContain('dialguard_active_reservations 1');
    expect(text).toContain('dialguard_settlements_total{outcome="settled"} 1');
    expect(text).toContain('dialguard_errors_total{code="DG_DEADLINE"} 1');
    expect(text).toContain('process_resident_memory_bytes');
  });
});

describe('the OpenAPI document', () => {
  it('describes every API route with its schemas, behind the bearer scheme', async () => {
    t = await testApp();
    const response = await t.app.inject({ url: '/docs/json', headers: t.as(t.auditor) });
    const doc = response.json() as { paths: Record<string, Record<string, { responses: Record<string, unknown>; security?: unknown[] }>>; security: unknown[] };
    const apiRoutes = t.routes.filter((r) => r.url.startsWith('/api/v1') && r.method !== 'HEAD');
    for (const route of apiRoutes) {
      const path = route.url.replace(/:(\w+)/g, '{$1}');
      const operation = doc.paths[path]?.[String(route.method).toLowerCase()];
      expect(operation, `${String(route.method)} ${route.url}`).toBeDefined();
      expect(Object.keys(operation?.responses ?? {}), `${String(route.method)} ${route.url}`).toEqual(expect.arrayContaining(['4XX']));
    }
    expect(doc.security).toEqual([{ bearer: [] }]);
    expect(doc.paths['/healthz']?.get?.security).toEqual([]);
    expect((await t.app.inject({ url: '/docs/', headers: t.as(t.auditor) })).statusCode).toBe(200);
  });
});
