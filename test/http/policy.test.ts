import { afterEach, describe, expect, it } from 'vitest';
import { CHECK_NAMES, REASON_CODES } from '../../src/engine/checks/registry.js';
import { testApp, type TestApp } from './app-fixture.js';

let t: TestApp;
afterEach(async () => t?.closeAll());

const json = (payload: unknown) => payload as Record<string, unknown>;

async function call(method: 'GET' | 'PUT' | 'PATCH' | 'DELETE' | 'POST', url: string, payload?: unknown, headers: Record<string, string> = {}) {
  const response = await t.app.inject({ method, url: `/api/v1${url}`, headers: { ...t.as(t.admin), ...headers }, payload: payload as string });
  return { status: response.statusCode, body: response.body ? json(response.json()) : null, etag: response.headers.etag };
}

const simulate = (number: string, ext = '1001') =>
  call('POST', '/simulate', { ext, number, source: '10.0.0.5:5060' }).then((r) => r.body as { result: string; reason: string });

describe('the default policy', () => {
  it('reads the built-in defaults on a fresh database, version 0', async () => {
    t = await testApp();
    const { status, body, etag } = await call('GET', '/policy/defaults');
    expect(status).toBe(200);
    expect(etag).toBe('"0"');
    expect(body).toMatchObject({ version: 0, overrides: {}, effective: { destinations: { allowCountries: ['US'] } }, builtin: { voicemailCallout: 'deny' } });
  });

  it('replaces the site defaults, and every extension inherits them', async () => {
    t = await testApp();
    const put = await call('PUT', '/policy/defaults', { destinations: { allowCountries: ['US', 'GB'] } });
    expect(put).toMatchObject({ status: 200, etag: '"1"', body: { version: 1, effective: { destinations: { allowCountries: ['US', 'GB'], allowHighRisk: false } } } });
    expect(await simulate('011442079460000')).toMatchObject({ result: 'ALLOW' });
  });

  it('refuses defaults under which an existing extension would be invalid, and keeps the old ones', async () => {
    t = await testApp({ extensions: { '1001': { budget: { minCallSeconds: 600 } } } });
    const before = await call('GET', '/policy/defaults');
    const put = await call('PUT', '/policy/defaults', { budget: { maxCallSeconds: 300 } });
    expect(put.status).toBe(400);
    expect(put.body).toMatchObject({ error: 'DG_VALIDATION', details: [{ field: '/extensions/1001/budget/minCallSeconds' }] });
    expect(await call('GET', '/policy/defaults')).toEqual(before);
  });

  it('names the field of an invalid default and applies nothing', async () => {
    t = await testApp();
    const put = await call('PUT', '/policy/defaults', { geofence: { allowCidrs: ['10.0.0.0/33'] }, budget: { dailySpend: 1 } });
    expect(put).toMatchObject({ status: 400, body: { error: 'DG_VALIDATION', details: [{ field: '/geofence/allowCidrs/0', message: '"10.0.0.0/33" is not a valid CIDR' }] } });
    expect((await t.store.loadPolicySet()).version).toBe(0);
  });

  it('names the fields of an invalid intrusion section with a 400, and takes a valid one', async () => {
    t = await testApp();
    const cidr = await call('PUT', '/policy/defaults', { intrusion: { trustedCidrs: ['office-lan'] } });
    expect(cidr).toMatchObject({ status: 400, body: { error: 'DG_VALIDATION', details: [{ field: '/intrusion/trustedCidrs/0', message: '"office-lan" is not a valid IP address or CIDR' }] } });
    const window = await call('PUT', '/policy/defaults', { intrusion: { windowHours: 0 } });
    expect(window).toMatchObject({ status: 400, body: { error: 'DG_VALIDATION', details: [{ field: '/intrusion/windowHours', message: 'must be at least 1, got 0' }] } });
    const good = await call('PUT', '/policy/defaults', { intrusion: { failureThreshold: 5, trustedCidrs: ['198.51.100.7'] } });
    expect(good).toMatchObject({ status: 200, body: { effective: { intrusion: { failureThreshold: 5, windowHours: 24, trustedCidrs: ['198.51.100.7'], lockOnTakeover: true } } } });
  });

  it('describes every check, its reason codes and messages, and the policy form, from the registry', async () => {
    t = await testApp();
    const { status, body } = await call('GET', '/checks');
    expect(status).toBe(200);
    const { checks, reasonCodes, form } = body as { checks: Array<{ name: string; reasons: unknown[] }>; reasonCodes: string[]; form: unknown[] };
    expect(checks.map((c) => c.name)).toEqual(CHECK_NAMES);
    expect(reasonCodes).toEqual(REASON_CODES);
    expect(checks.find((c) => c.name === 'source_suspicious')).toEqual({
      name: 'source_suspicious',
      kind: 'policy',
      section: 'intrusion',
      reasons: [{ code: 'source_suspicious', message: "the caller's address is attacking this PBX" }],
    });
    expect(form).toContainEqual({ path: '/schedule/appliesTo', label: 'Schedule applies to', input: 'choice', options: ['all', 'international', 'none'] });
    expect(form).toContainEqual({ path: '/intrusion/trustedCidrs', label: 'Trusted networks (CIDR)', input: 'list' });
    expect(form).toContainEqual({ path: '/budget/dailySpend', label: 'Daily spend limit', input: 'number' });
  });

  it('answers 412 to a stale If-Match', async () => {
    t = await testApp();
    await call('PUT', '/policy/defaults', { budget: { dailySpend: 10 } });
    const stale = await call('PUT', '/policy/defaults', { budget: { dailySpend: 20 } }, { 'if-match': '"0"' });
    expect(stale).toMatchObject({ status: 412, body: { error: 'DG_STALE_VERSION', details: { current: 1 } } });
    const fresh = await call('PUT', '/policy/defaults', { budget: { dailySpend: 20 } }, { 'if-match': '"1"' });
    expect(fresh).toMatchObject({ status: 200, etag: '"2"' });
  });
});

describe('an extension’s policy', () => {
  it('reads an extension with no entry as the defaults, and creates its entry with PUT', async () => {
    t = await testApp();
    const before = await call('GET', '/extensions/1001');
    expect(before).toMatchObject({ status: 200, etag: undefined, body: { stored: false, version: null, overrides: {} } });
    const put = await call('PUT', '/extensions/1001', { destinations: { allowCountries: ['US', 'CA'] }, budget: { dailySpend: 5 } });
    expect(put).toMatchObject({ status: 201, etag: '"1"', body: { stored: true, version: 1, effective: { destinations: { allowCountries: ['US', 'CA'] }, budget: { dailySpend: 5, monthlySpend: 300 } } } });
    expect(await call('GET', '/extensions/1001')).toMatchObject({ etag: '"1"', body: { overrides: { budget: { dailySpend: 5 } } } });
    expect((await call('PUT', '/extensions/1001', { budget: { dailySpend: 6 } })).status).toBe(200);
  });

  it('an invalid policy is refused with the field named, and the previous one stays', async () => {
    t = await testApp();
    await call('PUT', '/extensions/1001', { budget: { dailySpend: 5 } });
    const before = await call('GET', '/extensions/1001');
    for (const bad of [
      { budget: { dailySpnd: 5 } },
      { budget: { dailySpend: '5' } },
      { destinations: { allowCountries: ['UK'] } },
      { destinations: { blockedPrefixes: ['+0123'] } },
      { schedule: { timezone: 'Mars/Olympus' } },
    ]) {
      const put = await call('PUT', '/extensions/1001', bad);
      expect(put.status, JSON.stringify(bad)).toBe(400);
      expect(put.body?.error).toBe('DG_VALIDATION');
    }
    const uk = await call('PUT', '/extensions/1001', { destinations: { allowCountries: ['UK'] } });
    expect(uk.body).toMatchObject({ details: [{ field: '/destinations/allowCountries/0', message: 'unknown country code "UK" (the United Kingdom is "GB")' }] });
    expect(await call('GET', '/extensions/1001')).toEqual(before);
  });

  it('patches the overrides as an RFC 7396 merge patch', async () => {
    t = await testApp();
    await call('PUT', '/extensions/1001', { budget: { dailySpend: 5, monthlySpend: 50 }, voicemailCallout: 'domestic' });
    const patched = await call('PATCH', '/extensions/1001', JSON.stringify({ budget: { dailySpend: 7, monthlySpend: null }, destinations: { allowCountries: ['US', 'MX'] } }), {
      'content-type': 'application/merge-patch+json',
    });
    expect(patched.status).toBe(200);
    expect(patched.body?.overrides).toEqual({ budget: { dailySpend: 7 }, voicemailCallout: 'domestic', destinations: { allowCountries: ['US', 'MX'] } });
    expect(patched.body).toMatchObject({ effective: { budget: { dailySpend: 7, monthlySpend: 300 } } });
  });

  it('refuses a patch that makes the policy invalid, leaving it as it was', async () => {
    t = await testApp();
    await call('PUT', '/extensions/1001', { budget: { dailySpend: 5 } });
    const patched = await call('PATCH', '/extensions/1001', { budget: { maxCallSeconds: 10 } });
    expect(patched).toMatchObject({ status: 400, body: { details: [{ field: '/budget/minCallSeconds' }] } });
    expect((await call('GET', '/extensions/1001')).body?.overrides).toEqual({ budget: { dailySpend: 5 } });
  });

  it('answers 412 to a write with a stale If-Match, and applies it with the current one', async () => {
    t = await testApp();
    const first = await call('PUT', '/extensions/1001', { budget: { dailySpend: 5 } });
    await call('PUT', '/extensions/1002', { budget: { dailySpend: 9 } });
    const second = await call('PATCH', '/extensions/1001', { budget: { dailySpend: 6 } }, { 'if-match': first.etag as string });
    expect(second).toMatchObject({ status: 200, etag: '"3"' });
    for (const [method, payload] of [['PUT', { budget: { dailySpend: 1 } }], ['PATCH', { budget: { dailySpend: 1 } }], ['DELETE', undefined]] as const) {
      const stale = await call(method, '/extensions/1001', payload, { 'if-match': first.etag as string });
      expect(stale, method).toMatchObject({ status: 412, body: { error: 'DG_STALE_VERSION', details: { current: 3 } } });
    }
    expect((await call('PUT', '/extensions/1003', {}, { 'if-match': '*' })).status).toBe(412);
    expect((await call('GET', '/extensions/1001')).body?.overrides).toEqual({ budget: { dailySpend: 6 } });
  });

  it('deletes an entry: the extension inherits the defaults again; deleting it twice is 404', async () => {
    t = await testApp();
    await call('PUT', '/extensions/1001', { destinations: { allowCountries: ['*'] } });
    const deleted = await call('DELETE', '/extensions/1001');
    expect(deleted).toMatchObject({ status: 204, body: null });
    expect((await call('GET', '/extensions/1001')).body).toMatchObject({ stored: false, effective: { destinations: { allowCountries: ['US'] } } });
    expect(await call('DELETE', '/extensions/1001')).toMatchObject({ status: 404, body: { error: 'DG_NOT_FOUND' } });
  });

  it('refuses an extension name the dialplan could not send', async () => {
    t = await testApp();
    const response = await call('GET', '/extensions/bad%20name');
    expect(response).toMatchObject({ status: 400, body: { error: 'DG_VALIDATION', details: [{ field: '/ext' }] } });
  });

  it('records who changed what, before and after, newest first, paged', async () => {
    t = await testApp();
    await call('PUT', '/extensions/1001', { budget: { dailySpend: 5 } });
    await call('PATCH', '/extensions/1001', { budget: { dailySpend: 6 } });
    await call('POST', '/extensions/1001/lock', { reason: 'calls to Cuba at 3 am' });
    await call('PUT', '/extensions/1002', { budget: { dailySpend: 1 } });
    const page1 = await call('GET', '/extensions/1001/history?limit=2');
    expect(page1.body?.items).toMatchObject([
      { subject: 'lock:1001', actor: 'alice', before: null, after: { reason: 'calls to Cuba at 3 am' }, version: 3 },
      { subject: 'extension:1001', actor: 'alice', before: { budget: { dailySpend: 5 } }, after: { budget: { dailySpend: 6 } }, version: 2 },
    ]);
    const page2 = await call('GET', `/extensions/1001/history?limit=2&cursor=${page1.body?.nextCursor as string}`);
    expect(page2.body).toMatchObject({ items: [{ subject: 'extension:1001', before: null, version: 1 }], nextCursor: null });
    expect(new Date((page2.body?.items as [{ at: string }])[0].at).getTime()).toBeGreaterThan(Date.now() - 60_000);
  });
});

describe('locks', () => {
  it('a locked extension is denied extension_locked, emergency numbers still pass, and unlock restores it', async () => {
    t = await testApp();
    const locked = await call('POST', '/extensions/1001/lock', { reason: 'password leaked' });
    expect(locked).toMatchObject({ status: 200, body: { ext: '1001', lock: { reason: 'password leaked', actor: 'alice' }, changed: true } });
    expect(await simulate('2125550123')).toMatchObject({ result: 'DENY', reason: 'extension_locked' });
    expect(await simulate('911')).toMatchObject({ result: 'ALLOW', reason: 'emergency' });
    expect((await call('GET', '/extensions/1001')).body).toMatchObject({ lock: { reason: 'password leaked' } });
    expect(await call('POST', '/extensions/1001/unlock')).toMatchObject({ status: 200, body: { lock: null, changed: true } });
    expect(await simulate('2125550123')).toMatchObject({ result: 'ALLOW' });
    expect((await call('POST', '/extensions/1001/unlock')).body).toMatchObject({ changed: false });
  });

  it('a lock needs a reason', async () => {
    t = await testApp();
    expect(await call('POST', '/extensions/1001/lock', {})).toMatchObject({ status: 400, body: { details: [{ field: '/reason' }] } });
  });

  it('locks and unlocks with no body, with or without a JSON content type; a lock without a body names the token', async () => {
    t = await testApp();
    // What curl -H 'content-type: application/json' and many HTTP clients send for a POST with no data.
    for (const headers of [{ 'content-type': 'application/json' }, { 'content-type': 'application/json; charset=utf-8' }, {}]) {
      const locked = await t.app.inject({ method: 'POST', url: '/api/v1/extensions/1001/lock', headers: { ...t.as(t.admin), ...headers } });
      expect(locked.statusCode, JSON.stringify(headers)).toBe(200);
      expect(locked.json()).toMatchObject({ ext: '1001', lock: { reason: 'locked by admin token "alice"', actor: 'alice' }, changed: true });
      expect(await simulate('2125550123')).toMatchObject({ reason: 'extension_locked' });
      const unlocked = await t.app.inject({ method: 'POST', url: '/api/v1/extensions/1001/unlock', headers: { ...t.as(t.admin), ...headers } });
      expect(unlocked.statusCode, JSON.stringify(headers)).toBe(200);
      expect(unlocked.json()).toMatchObject({ lock: null, changed: true });
    }
    expect((await call('GET', '/extensions/1001/history')).body?.items).toHaveLength(6);
  });

  it('an empty JSON body is still refused, with the field named, where a body is required', async () => {
    t = await testApp();
    const empty = await t.app.inject({ method: 'PUT', url: '/api/v1/circuit-breaker', headers: { ...t.as(t.admin), 'content-type': 'application/json' } });
    expect(empty.statusCode).toBe(400);
    expect(empty.json()).toMatchObject({ error: 'DG_VALIDATION' });
    const blank = await t.app.inject({ method: 'POST', url: '/api/v1/extensions/1001/lock', headers: { ...t.as(t.admin), 'content-type': 'application/json' }, payload: ' ' });
    expect(blank).toMatchObject({ statusCode: 400 });
    expect(await t.store.getLock('1001')).toBeNull();
  });

  it('replacing or deleting the policy never unlocks', async () => {
    t = await testApp();
    await call('POST', '/extensions/1001/lock', { reason: 'fraud' });
    await call('PUT', '/extensions/1001', { budget: { dailySpend: 5 } });
    await call('DELETE', '/extensions/1001');
    expect(await simulate('2125550123')).toMatchObject({ reason: 'extension_locked' });
  });
});

describe('the extension list', () => {
  it('lists entries and locked extensions by name with today’s usage, a page at a time', async () => {
    t = await testApp({ extensions: { '1001': {}, '1002': {}, '1003': {} } });
    await t.store.lock('2000', 'fraud', 'test');
    await t.guard.authorize({ extension: '1002', dialled: '2125550123', source: '10.0.0.5:5060', origin: 'phone', at: new Date(), transport: 'cli' });
    const page1 = await call('GET', '/extensions?limit=2');
    expect(page1.body?.items).toMatchObject([
      { ext: '1001', stored: true, lock: null, today: { activeCalls: 0, spend: 0 } },
      { ext: '1002', today: { activeCalls: 1, spend: 1.2, minutes: 60 } },
    ]);
    const page2 = await call('GET', `/extensions?limit=2&cursor=${page1.body?.nextCursor as string}`);
    expect(page2.body).toMatchObject({ items: [{ ext: '1003' }, { ext: '2000', stored: false, version: null, lock: { reason: 'fraud' } }], nextCursor: null });
  });
});
