import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { testApp, type TestApp } from '../http/app-fixture.js';
import { DASHBOARD_HEADERS, buildDashboard } from './browser.js';

/** The dashboard's files: public, holding no data; everything else stays the API's. */
let t: TestApp;
beforeAll(() => buildDashboard(), 60_000);
afterEach(async () => t?.closeAll());

describe('the dashboard files', () => {
  it('serves the page and its script at / to anyone, with no data in them', async () => {
    t = await testApp();
    const page = await t.app.inject({ url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain('<script type="module" src="app.js"></script>');
    const script = await t.app.inject({ url: '/app.js' });
    expect(script.statusCode).toBe(200);
    expect(script.headers['content-type']).toMatch(/javascript/);
  });

  it('answers an unknown path with the API’s 404, and never serves source maps', async () => {
    t = await testApp();
    const unknown = await t.app.inject({ url: '/api/v1/nothing-here' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ error: 'DG_NOT_FOUND' });
    expect((await t.app.inject({ url: '/app.js.map' })).statusCode).toBe(404);
  });

  it('sends the strict headers with every dashboard response: page, script, style sheet, 404 and 304', async () => {
    t = await testApp();
    const page = await t.app.inject({ url: '/' });
    const responses = [
      page,
      await t.app.inject({ url: '/index.html' }),
      await t.app.inject({ url: '/app.js' }),
      await t.app.inject({ url: '/style.css' }),
      await t.app.inject({ method: 'HEAD', url: '/' }),
      await t.app.inject({ url: '/no-such-page.js' }),
      await t.app.inject({ url: '/app.js.map' }),
      await t.app.inject({ url: '/', headers: { 'if-none-match': String(page.headers.etag) } }),
    ];
    expect(responses.map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 200, 404, 404, 304]);
    for (const response of responses) expect(response.headers).toMatchObject(DASHBOARD_HEADERS);
  });
});
