import { afterEach, describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH } from '../../src/bounds.js';
import { testApp, type TestApp } from './app-fixture.js';

/**
 * JSON nested thousands deep parses fine, but every recursive walk after it (validation
 * messages, merging, serialising) overflows the stack: such a body is refused before any of
 * them with 400 DG_JSON_TOO_DEEP, on every route that writes.
 */
let t: TestApp;
afterEach(async () => t?.closeAll());

const objects = (depth: number): string => '{"a":'.repeat(depth - 1) + '{"a":1}' + '}'.repeat(depth - 1);
const arrays = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);
/** A deep value under a field each route knows, so validation would have to describe it. */
const under = (field: string, value: string): string => `{"${field}":${value}}`;

const ULID = '01JDGQ7K3M5X8Y2Z4A6B8C0D1E';

/** Every route that takes a body: POST, PUT and PATCH under /api/v1, path parameters filled in. */
function writeRoutes(): { method: 'POST' | 'PUT' | 'PATCH'; url: string }[] {
  return t.routes
    .filter((r) => r.url.startsWith('/api/v1/') && ['POST', 'PUT', 'PATCH'].includes(String(r.method)))
    .map((r) => ({ method: r.method as 'POST' | 'PUT' | 'PATCH', url: r.url.replace(':ext', '1001').replace(':id', ULID) }));
}

async function send(method: string, url: string, payload: string, contentType = 'application/json') {
  const response = await t.app.inject({ method: method as 'POST', url, headers: { ...t.as(t.admin), 'content-type': contentType }, payload });
  return { status: response.statusCode, body: response.json() as Record<string, unknown> };
}

describe('JSON nested 5,000 deep', () => {
  it('is refused with 400 DG_JSON_TOO_DEEP on every write route, whatever the field, and changes nothing', async () => {
    t = await testApp();
    const routes = writeRoutes();
    expect(routes.length).toBeGreaterThanOrEqual(12);
    for (const { method, url } of routes) {
      for (const body of [objects(5000), arrays(5000), under('enabled', objects(5000)), under('rates', arrays(5000)), under('reason', arrays(5000))]) {
        const refused = await send(method, url, body);
        expect(refused, `${method} ${url} ${body.slice(0, 12)}`).toMatchObject({
          status: 400,
          body: { error: 'DG_JSON_TOO_DEEP', message: expect.stringContaining(`more than ${MAX_JSON_DEPTH} levels`) },
        });
      }
    }
    const patch = await send('PATCH', '/api/v1/extensions/1001', under('budget', objects(5000)), 'application/merge-patch+json');
    expect(patch).toMatchObject({ status: 400, body: { error: 'DG_JSON_TOO_DEEP' } });

    expect((await t.store.loadPolicySet()).version).toBe(0);
    expect(await t.store.getLock('1001')).toBeNull();
    expect(t.logs.filter((r) => r.level >= 50)).toEqual([]);
  });

  it(`takes ${MAX_JSON_DEPTH} levels and refuses ${MAX_JSON_DEPTH + 1}`, async () => {
    t = await testApp();
    // Wrong for the policy (an unknown field), but not for its depth.
    const deepest = await send('PUT', '/api/v1/policy/defaults', objects(MAX_JSON_DEPTH));
    expect(deepest).toMatchObject({ status: 400, body: { error: 'DG_VALIDATION' } });
    const tooDeep = await send('PUT', '/api/v1/policy/defaults', objects(MAX_JSON_DEPTH + 1));
    expect(tooDeep).toMatchObject({ status: 400, body: { error: 'DG_JSON_TOO_DEEP' } });
    const ok = await send('PUT', '/api/v1/extensions/1001', JSON.stringify({ schedule: { windows: [{ days: ['mon'], from: '08:00', to: '18:00' }] } }));
    expect(ok.status).toBe(201);
  });
});
