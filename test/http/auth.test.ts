import Database from 'better-sqlite3';
import type { RouteOptions } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { testApp, type TestApp } from './app-fixture.js';

/** The only routes a stranger may call: the probes, and the dashboard's files (GET /*), which hold no data. */
const PUBLIC = new Set(['/healthz', '/readyz', '/index.html']);
/** Routes that are not GET/HEAD but change nothing, so that auditors may call them. A new one must be listed here on purpose. */
const READ_ONLY_WRITES = new Set(['POST /api/v1/simulate']);

interface Endpoint {
  method: string;
  url: string;
  route: RouteOptions;
}

/** Every registered method and path, with sample values for its parameters. */
function endpoints(routes: RouteOptions[]): Endpoint[] {
  return routes.flatMap((route) => {
    const url = route.url.replace(':ext', '1001').replace(':id', '01JD0000000000000000000000').replace('*', 'index.html');
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    return methods.map((method) => ({ method, url, route }));
  });
}

let t: TestApp;
afterEach(async () => t?.closeAll());

describe('every route but the probes needs a token', () => {
  it('answers 401 with no token and with a wrong one, on every registered route', async () => {
    t = await testApp();
    const all = endpoints(t.routes);
    // The enumeration really sees the app: the API, the docs and the metrics are all there.
    expect(all.map((e) => `${e.method} ${e.url}`)).toEqual(
      expect.arrayContaining(['GET /api/v1/decisions', 'PUT /api/v1/extensions/1001', 'GET /docs/json', 'GET /metrics', 'POST /api/v1/simulate']),
    );
    const protectedOnes = all.filter((e) => !PUBLIC.has(e.url));
    expect(protectedOnes.length).toBeGreaterThan(40);
    for (const { method, url } of protectedOnes) {
      for (const headers of [{}, t.as('dg_not-a-real-token'), { authorization: 'Basic YWRtaW46YWRtaW4=' }]) {
        const response = await t.app.inject({ method: method as 'GET', url, headers, payload: method === 'GET' || method === 'HEAD' ? undefined : {} });
        expect(response.statusCode, `${method} ${url}`).toBe(401);
        if (method !== 'HEAD') expect(response.json(), `${method} ${url}`).toMatchObject({ error: 'DG_UNAUTHORIZED' });
        expect(response.headers['www-authenticate']).toBe('Bearer realm="dialguard"');
      }
    }
  });

  it('lets anyone call /healthz, /readyz and the dashboard files, and nothing else', async () => {
    t = await testApp();
    const open = [];
    for (const { method, url } of endpoints(t.routes)) {
      const response = await t.app.inject({ method: method as 'GET', url });
      if (response.statusCode !== 401) open.push(`${method} ${url}`);
    }
    expect(open.sort()).toEqual(['GET /healthz', 'GET /index.html', 'GET /readyz', 'HEAD /healthz', 'HEAD /index.html', 'HEAD /readyz']);
  });

  it('refuses every write to an auditor with 403, and lets it read', async () => {
    t = await testApp();
    const writes = endpoints(t.routes).filter((e) => !['GET', 'HEAD'].includes(e.method) && !READ_ONLY_WRITES.has(`${e.method} ${e.route.url}`));
    expect(writes.length).toBeGreaterThanOrEqual(9);
    for (const { method, url } of writes) {
      const response = await t.app.inject({ method: method as 'PUT', url, headers: t.as(t.auditor), payload: {} });
      expect(response.statusCode, `${method} ${url}`).toBe(403);
      expect(response.json()).toMatchObject({ error: 'DG_FORBIDDEN' });
    }
    expect((await t.store.loadPolicySet()).version).toBe(0);
    expect((await t.app.inject({ url: '/api/v1/policy/defaults', headers: t.as(t.auditor) })).statusCode).toBe(200);
    const simulated = await t.app.inject({ method: 'POST', url: '/api/v1/simulate', headers: t.as(t.auditor), payload: { ext: '1001', number: '911' } });
    expect(simulated.json()).toMatchObject({ result: 'ALLOW', reason: 'emergency' });
  });

  it('logs every refusal without the token', async () => {
    t = await testApp();
    const wrong = 'dg_guessed-token-that-must-not-be-logged';
    await t.app.inject({ url: '/api/v1/decisions', headers: t.as(wrong) });
    await t.app.inject({ method: 'PUT', url: '/api/v1/rates', headers: t.as(t.auditor), payload: { rates: [] } });
    const text = JSON.stringify(t.logs);
    expect(text).not.toContain(wrong);
    expect(text).not.toContain(t.auditor);
    expect(t.logs.filter((r) => String(r.msg).startsWith('refused:')).map((r) => r.refused)).toEqual(['unknown or revoked token', 'read-only role']);
    expect(t.logs.find((r) => r.refused === 'read-only role')).toMatchObject({ tokenName: 'bob', method: 'PUT', url: '/api/v1/rates' });
  });

  it('stops accepting a token as soon as it is revoked', async () => {
    t = await testApp();
    expect((await t.app.inject({ url: '/api/v1/decisions', headers: t.as(t.auditor) })).statusCode).toBe(200);
    await t.store.revokeToken('bob', 'test');
    expect((await t.app.inject({ url: '/api/v1/decisions', headers: t.as(t.auditor) })).statusCode).toBe(401);
  });
});

describe('limits', () => {
  it('rate-limits each token on its own', async () => {
    t = await testApp(undefined, { rateLimit: { max: 3, timeWindowMs: 60_000 } });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await t.app.inject({ url: '/api/v1/rates', headers: t.as(t.admin) })).statusCode);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const limited = await t.app.inject({ url: '/api/v1/rates', headers: t.as(t.admin) });
    expect(limited.json()).toMatchObject({ error: 'DG_RATE_LIMITED' });
    expect(limited.headers['retry-after']).toBeDefined();
    expect((await t.app.inject({ url: '/api/v1/rates', headers: t.as(t.auditor) })).statusCode).toBe(200);
  });

  it('refuses a body over 1 MB with 413, and reads no body before the token is checked', async () => {
    t = await testApp();
    const big = JSON.stringify({ blockedPrefixes: Array.from({ length: 140_000 }, () => '+8821') });
    expect(big.length).toBeGreaterThan(1024 * 1024);
    const response = await t.app.inject({ method: 'PUT', url: '/api/v1/blocked-prefixes', headers: { ...t.as(t.admin), 'content-type': 'application/json' }, payload: big });
    expect(response.statusCode).toBe(413);
    expect(response.json()).toMatchObject({ error: 'DG_PAYLOAD_TOO_LARGE' });
    const stranger = await t.app.inject({ method: 'PUT', url: '/api/v1/blocked-prefixes', headers: { 'content-type': 'application/json' }, payload: big });
    expect(stranger.statusCode).toBe(401);
  });

  it('answers 415 to a body that is neither JSON nor a declared CSV', async () => {
    t = await testApp();
    const response = await t.app.inject({ method: 'PUT', url: '/api/v1/blocked-prefixes', headers: { ...t.as(t.admin), 'content-type': 'text/plain' }, payload: '+8821' });
    expect(response.statusCode).toBe(415);
    expect(response.json()).toMatchObject({ error: 'DG_UNSUPPORTED_MEDIA_TYPE' });
  });
});

describe('errors never show internals', () => {
  it('a locked database gives 503 DG_STORE without SQL or a stack trace', async () => {
    t = await testApp();
    const other = new Database(t.dbPath);
    other.prepare('BEGIN IMMEDIATE').run();
    try {
      const response = await t.app.inject({ method: 'PUT', url: '/api/v1/blocked-prefixes', headers: t.as(t.admin), payload: { blockedPrefixes: ['+8821'] } });
      expect(response.statusCode).toBe(503);
      expect(response.json()).toEqual({ error: 'DG_STORE', message: 'the database is busy or unavailable: try again shortly', details: null });
      expect(t.logs.some((r) => r.msg === 'request failed')).toBe(true);
    } finally {
      other.prepare('ROLLBACK').run();
      other.close();
    }
    await expect(t.metrics.registry.getSingleMetricAsString('dialguard_errors_total')).resolves.toContain('code="DG_STORE"} 1');
  });

  it('an unexpected failure gives 500 DG_INTERNAL naming the request id, nothing more', async () => {
    t = await testApp();
    t.store.close();
    const response = await t.app.inject({ url: '/api/v1/decisions', headers: t.as(t.admin) });
    expect(response.statusCode).toBe(500);
    const body = response.json();
    expect(body).toEqual({ error: 'DG_INTERNAL', message: expect.stringMatching(/^internal error: see the server log for request \S+$/), details: null });
    expect(response.body).not.toMatch(/at .*\.ts|SELECT|sqlite/i);
  });
});

describe('over a real socket', () => {
  it('serves the API on a listening port, token required', async () => {
    t = await testApp();
    const address = await t.app.listen({ host: '127.0.0.1', port: 0 });
    expect((await fetch(`${address}/healthz`)).status).toBe(200);
    expect((await fetch(`${address}/api/v1/extensions`)).status).toBe(401);
    const ok = await fetch(`${address}/api/v1/extensions/1001`, { headers: t.as(t.auditor) });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ ext: '1001', stored: false });
    const put = await fetch(`${address}/api/v1/extensions/1001`, {
      method: 'PUT',
      headers: { ...t.as(t.admin), 'content-type': 'application/json' },
      body: JSON.stringify({ budget: { dailySpend: 5 } }),
    });
    expect(put.status).toBe(201);
    expect(put.headers.get('etag')).toBe('"1"');
  });
});
