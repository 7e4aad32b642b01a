import { afterEach, describe, expect, it } from 'vitest';
import {
  MAX_AMOUNT,
  MAX_BILLING_SECONDS,
  MAX_CALL_SECONDS,
  MAX_CONCURRENT_CALLS,
  MAX_DAILY_MINUTES,
  MAX_INTRUSION_WINDOW_HOURS,
  MAX_RATE_PER_MINUTE,
  MAX_SPREAD_WINDOW_HOURS,
  MAX_WINDOW_COUNT,
} from '../../src/bounds.js';
import { testApp, type TestApp } from './app-fixture.js';

/**
 * A number JSON can carry but a budget cannot (1.797e308 is finite; in micro-units it is
 * Infinity) is refused at the API with every field named, nothing is stored, and the reads
 * that would have broken on an infinite price or limit keep answering.
 */
let t: TestApp;
afterEach(async () => t?.closeAll());

const HUGE = '1.797e308';

type Method = 'GET' | 'PUT' | 'PATCH' | 'POST';

async function send(method: Method, url: string, body?: string, contentType = 'application/json') {
  const headers = { ...t.as(t.admin), ...(body === undefined ? {} : { 'content-type': contentType }) };
  const response = await t.app.inject({ method, url: `/api/v1${url}`, headers, payload: body });
  return { status: response.statusCode, body: response.json() as Record<string, unknown> };
}

/** Every write that takes a number, with the value spliced in as JSON text (so 1.797e308 arrives as written), and the field it lands in. */
const WRITES: ReadonlyArray<[Method, string, string, (n: string) => string]> = [
  ['PUT', '/rates', '/rates/0/perMinute', (n) => `{"rates":[{"prefix":"+","perMinute":${n},"increment":60}]}`],
  ['PUT', '/rates', '/rates/0/increment', (n) => `{"rates":[{"prefix":"+","perMinute":1,"increment":${n}}]}`],
  ['PUT', '/rates', '/rates/0/minimum', (n) => `{"rates":[{"prefix":"+","perMinute":1,"increment":60,"minimum":${n}}]}`],
  ['PUT', '/policy/defaults', '/budget/dailySpend', (n) => `{"budget":{"dailySpend":${n}}}`],
  ['PUT', '/policy/defaults', '/budget/monthlySpend', (n) => `{"budget":{"monthlySpend":${n}}}`],
  ['PUT', '/policy/defaults', '/budget/dailyMinutes', (n) => `{"budget":{"dailyMinutes":${n}}}`],
  ['PUT', '/policy/defaults', '/budget/maxConcurrent', (n) => `{"budget":{"maxConcurrent":${n}}}`],
  ['PUT', '/policy/defaults', '/budget/maxCallSeconds', (n) => `{"budget":{"maxCallSeconds":${n}}}`],
  ['PUT', '/policy/defaults', '/velocity/maxAttemptsPerMinute', (n) => `{"velocity":{"maxAttemptsPerMinute":${n}}}`],
  ['PUT', '/policy/defaults', '/velocity/maxDistinctDestinationsPerHour', (n) => `{"velocity":{"maxDistinctDestinationsPerHour":${n}}}`],
  ['PUT', '/policy/defaults', '/intrusion/failureThreshold', (n) => `{"intrusion":{"failureThreshold":${n}}}`],
  ['PUT', '/extensions/1001', '/budget/dailySpend', (n) => `{"budget":{"dailySpend":${n}}}`],
  ['PATCH', '/extensions/1001', '/budget/monthlySpend', (n) => `{"budget":{"monthlySpend":${n}}}`],
  ['PUT', '/circuit-breaker', '/internationalSpendPerHour', (n) => `{"internationalSpendPerHour":${n}}`],
];

describe('numbers past their bound', () => {
  it.each(WRITES)('%s %s refuses 1.797e308 at %s, naming the field', async (method, url, field, body) => {
    t = await testApp();
    const refused = await send(method, url, body(HUGE));
    expect(refused).toMatchObject({ status: 400, body: { error: 'DG_VALIDATION', details: [{ field }] } });
  });

  it('refuses 1.797e308 as a rate in a CSV upload, naming the line', async () => {
    t = await testApp();
    const refused = await send('PUT', '/rates', `+,1,60\n+44,${HUGE},60\n`, 'text/csv');
    expect(refused).toMatchObject({ status: 400, body: { error: 'DG_VALIDATION', details: [{ field: '/rates/1/perMinute' }] } });
  });

  it('says Infinity, not null, for a number too large for a double (1e400)', async () => {
    t = await testApp();
    const refused = await send('PUT', '/policy/defaults', '{"budget":{"dailySpend":1e400}}');
    expect(refused.status).toBe(400);
    expect((refused.body.details as { message: string }[])[0]?.message).toContain('got Infinity');
  });

  it('after every refusal nothing has changed: calls are priced and the audit, the breaker and usage answer', async () => {
    t = await testApp();
    for (const [method, url, , body] of WRITES) expect((await send(method, url, body(HUGE))).status, `${method} ${url}`).toBe(400);
    expect((await send('PUT', '/rates', `+,${HUGE},60\n`, 'text/csv')).status).toBe(400);

    expect((await send('GET', '/rates')).body).toMatchObject({ version: 0, source: 'builtin' });
    expect((await send('GET', '/policy/defaults')).body).toMatchObject({ version: 0, overrides: {} });
    expect((await send('GET', '/extensions/1001')).body).toMatchObject({ stored: false });

    const call = await t.guard.authorize({ extension: '1001', dialled: '2125550123', source: '10.0.0.5:5060', origin: 'phone', at: new Date(), transport: 'agi' });
    expect(call).toMatchObject({ result: 'ALLOW', limitMs: 3_600_000, grant: { costMicros: 1_200_000 } });
    expect(await send('GET', '/decisions')).toMatchObject({ status: 200, body: { items: [{ id: call.callId, reservedCost: 1.2 }] } });
    expect(await send('GET', `/decisions/${call.callId}`)).toMatchObject({ status: 200, body: { reservation: { reservedCost: 1.2 } } });
    expect(await send('GET', '/circuit-breaker')).toMatchObject({ status: 200, body: { state: 'closed', internationalSpendPerHour: 500 } });
    expect(await send('GET', '/usage/1001')).toMatchObject({ status: 200, body: { today: { spend: 1.2, spendLimit: 25 }, month: { spend: 1.2 } } });
  });
});

describe('the bounds themselves', () => {
  /** [field, the largest value it takes, a body setting it]: the bound is accepted, anything above refused. */
  const BOUNDED: ReadonlyArray<[string, number, (n: number) => [string, unknown]]> = [
    ['/budget/dailySpend', MAX_AMOUNT, (n) => ['/policy/defaults', { budget: { dailySpend: n, monthlySpend: null } }]],
    ['/budget/monthlySpend', MAX_AMOUNT, (n) => ['/policy/defaults', { budget: { monthlySpend: n } }]],
    ['/budget/dailyMinutes', MAX_DAILY_MINUTES, (n) => ['/policy/defaults', { budget: { dailyMinutes: n } }]],
    ['/budget/maxConcurrent', MAX_CONCURRENT_CALLS, (n) => ['/policy/defaults', { budget: { maxConcurrent: n } }]],
    ['/budget/maxCallSeconds', MAX_CALL_SECONDS, (n) => ['/policy/defaults', { budget: { maxCallSeconds: n } }]],
    ['/velocity/maxInternationalPerHour', MAX_WINDOW_COUNT, (n) => ['/policy/defaults', { velocity: { maxInternationalPerHour: n } }]],
    ['/velocity/maxDeniedPerHour', MAX_WINDOW_COUNT, (n) => ['/policy/defaults', { velocity: { maxDeniedPerHour: n } }]],
    ['/velocity/maxNewCountriesPerHour', MAX_WINDOW_COUNT, (n) => ['/policy/defaults', { velocity: { maxNewCountriesPerHour: n } }]],
    ['/intrusion/failureThreshold', MAX_WINDOW_COUNT, (n) => ['/policy/defaults', { intrusion: { failureThreshold: n } }]],
    ['/intrusion/windowHours', MAX_INTRUSION_WINDOW_HOURS, (n) => ['/policy/defaults', { intrusion: { windowHours: n } }]],
    ['/sources/maxConcurrentPerSource', MAX_CONCURRENT_CALLS, (n) => ['/policy/defaults', { sources: { maxConcurrentPerSource: n } }]],
    ['/spread/maxExtensionsPerDestination', MAX_WINDOW_COUNT, (n) => ['/policy/defaults', { spread: { maxExtensionsPerDestination: n } }]],
    ['/spread/windowHours', MAX_SPREAD_WINDOW_HOURS, (n) => ['/policy/defaults', { spread: { windowHours: n } }]],
    ['/rates/0/perMinute', MAX_RATE_PER_MINUTE, (n) => ['/rates', { rates: [{ prefix: '+', perMinute: n, increment: 60 }] }]],
    ['/rates/0/increment', MAX_BILLING_SECONDS, (n) => ['/rates', { rates: [{ prefix: '+', perMinute: 1, increment: n }] }]],
    ['/rates/0/minimum', MAX_BILLING_SECONDS, (n) => ['/rates', { rates: [{ prefix: '+', perMinute: 1, increment: 60, minimum: n }] }]],
    ['/internationalSpendPerHour', MAX_AMOUNT, (n) => ['/circuit-breaker', { internationalSpendPerHour: n }]],
  ];

  it.each(BOUNDED)('%s takes %d and refuses one more', async (field, max, body) => {
    t = await testApp();
    const [url, atMax] = body(max);
    expect((await send('PUT', url, JSON.stringify(atMax))).status).toBe(200);
    const [, over] = body(max + 1);
    const refused = await send('PUT', url, JSON.stringify(over));
    expect(refused).toMatchObject({ status: 400, body: { details: [{ field, message: expect.stringContaining(`at most ${max}`) }] } });
  });
});
