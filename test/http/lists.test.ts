import { afterEach, describe, expect, it } from 'vitest';
import { testApp, type TestApp } from './app-fixture.js';

let t: TestApp;
afterEach(async () => t?.closeAll());

async function call(method: 'GET' | 'PUT', url: string, payload?: unknown, headers: Record<string, string> = {}) {
  const response = await t.app.inject({ method, url: `/api/v1${url}`, headers: { ...t.as(t.admin), ...headers }, payload: payload as string });
  return { status: response.statusCode, body: response.json() as Record<string, unknown>, etag: response.headers.etag };
}

const simulate = async (number: string) =>
  (await t.app.inject({ method: 'POST', url: '/api/v1/simulate', headers: t.as(t.admin), payload: { ext: '1001', number, source: '10.0.0.5:5060' } })).json() as Record<string, unknown>;

describe('rates', () => {
  it('shows the built-in rates until the site sets its own', async () => {
    t = await testApp();
    expect(await call('GET', '/rates')).toMatchObject({ status: 200, etag: '"0"', body: { source: 'builtin', rates: [{ prefix: '+' }, { prefix: '+1', perMinute: 0.02 }] } });
  });

  it('replaces the table from JSON, and the next decision is priced with it', async () => {
    t = await testApp();
    const put = await call('PUT', '/rates', { rates: [{ prefix: '+', perMinute: 1, increment: 60 }, { prefix: '+1', perMinute: 0.1, increment: 6, minimum: 30 }] });
    expect(put).toMatchObject({ status: 200, etag: '"1"', body: { version: 1, source: 'site' } });
    expect(await simulate('2125550123')).toMatchObject({ reservation: { ratePrefix: '+1', seconds: 3600, cost: 6 } });
  });

  it('takes a CSV upload of prefix,perMinute,increment', async () => {
    t = await testApp();
    const csv = 'prefix,perMinute,increment\r\n# carrier table, 2026-11\r\n+,1,60\r\n+1,0.01,60\r\n"+44",0.05,60,60\r\n\r\n';
    const put = await call('PUT', '/rates', csv, { 'content-type': 'text/csv' });
    expect(put.status).toBe(200);
    expect((await call('GET', '/rates')).body.rates).toEqual([
      { prefix: '+', perMinute: 1, increment: 60 },
      { prefix: '+1', perMinute: 0.01, increment: 60 },
      { prefix: '+44', perMinute: 0.05, increment: 60, minimum: 60 },
    ]);
  });

  it('names the CSV line at fault and keeps the old table', async () => {
    t = await testApp();
    for (const [csv, field, message] of [
      ['+,1,60\n+44,cheap,60\n', '/rates/1/perMinute', 'line 2: "cheap" is not a number'],
      ['+,1,60\n+44,0.05\n', '/rates/1', 'line 2: expected prefix,perMinute,increment[,minimum], got 2 column(s)'],
      ['+,1,60\n44,0.05,60\n', '/rates/1/prefix', '"44" does not match ^\\+[0-9]{0,15}$'],
      ['+,1,60\n+44,0.05,60\n+44,0.06,60\n', '/rates/2/prefix', 'duplicate rate prefix "+44" (also /rates/1)'],
      ['+,1,0\n', '/rates/0/increment', 'must be at least 1, got 0'],
    ]) {
      const put = await call('PUT', '/rates', csv, { 'content-type': 'text/csv' });
      expect(put, csv).toMatchObject({ status: 400, body: { error: 'DG_VALIDATION', details: [{ field, message }] } });
    }
    expect((await call('GET', '/rates')).body).toMatchObject({ version: 0, source: 'builtin' });
  });

  it('answers 412 to a stale If-Match', async () => {
    t = await testApp();
    await call('PUT', '/rates', { rates: [{ prefix: '+', perMinute: 1, increment: 60 }] });
    expect((await call('PUT', '/rates', { rates: [] }, { 'if-match': '"0"' })).status).toBe(412);
  });
});

describe('blocked prefixes', () => {
  it('blocks a prefix for every extension', async () => {
    t = await testApp();
    expect(await call('GET', '/blocked-prefixes')).toMatchObject({ body: { version: 0, blockedPrefixes: [] } });
    expect(await call('PUT', '/blocked-prefixes', { blockedPrefixes: ['+1212555'] })).toMatchObject({ status: 200, etag: '"1"' });
    expect(await simulate('2125550123')).toMatchObject({ result: 'DENY', reason: 'destination_prefix_blocked' });
    expect((await call('GET', '/blocked-prefixes')).body).toEqual({ version: 1, blockedPrefixes: ['+1212555'] });
  });

  it('refuses a prefix the engine could not compile, so calls never fail with guard_error', async () => {
    t = await testApp();
    for (const prefix of ['+0123', '1212', '+1 212', '']) {
      const put = await call('PUT', '/blocked-prefixes', { blockedPrefixes: ['+88213', prefix] });
      expect(put, prefix).toMatchObject({ status: 400, body: { error: 'DG_VALIDATION', details: [{ field: '/blockedPrefixes/1' }] } });
    }
    expect(await simulate('2125550123')).toMatchObject({ result: 'ALLOW' });
  });
});

describe('high-risk destinations', () => {
  it('replaces the built-in list', async () => {
    t = await testApp({ defaults: { destinations: { allowCountries: ['*'] } } });
    const builtin = await call('GET', '/high-risk');
    expect(builtin.body).toMatchObject({ source: 'builtin', version: 0 });
    expect(builtin.body.countries).toContain('CU');
    expect(await simulate('011442079460000')).toMatchObject({ result: 'ALLOW' });
    const put = await call('PUT', '/high-risk', { countries: ['GB'], prefixes: ['+88213'] });
    expect(put).toMatchObject({ status: 200, body: { source: 'site', countries: ['GB'], prefixes: ['+88213'] } });
    expect(await simulate('011442079460000')).toMatchObject({ result: 'DENY', reason: 'destination_high_risk' });
  });

  it('refuses an unknown country or a bad prefix, naming it', async () => {
    t = await testApp();
    const put = await call('PUT', '/high-risk', { countries: ['CU', 'XX'], prefixes: ['+0'] });
    expect(put).toMatchObject({ status: 400, body: { details: [{ field: '/countries/1' }, { field: '/prefixes/0' }] } });
    const prefix = await call('PUT', '/high-risk', { countries: [], prefixes: ['+0'] });
    expect(prefix).toMatchObject({ status: 400, body: { details: [{ field: '/prefixes/0' }] } });
    expect((await call('GET', '/high-risk')).body).toMatchObject({ source: 'builtin' });
  });
});
