import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import type { SecurityEvent } from '../../src/domain/security.js';
import { createLogger } from '../../src/logger.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { requireDependency } from '../support/require-dependency.js';
import { captureEvents } from '../support/security-events.js';
import { ARTIFACTS, buildDashboard, chromiumMissing, launchChromium } from './browser.js';

/**
 * The Sources page in headless Chromium, on a real server (in-process, so that the test hands
 * the tracker the captured security events the way the AMI feed does).
 */
const TOKEN = 'sources-dashboard-admin-token-0123456789';
let dir: string;
let server: RunningServer;
let browser: Browser;
let page: Page;
const cspViolations: string[] = [];

/** The capture moved to a minute ago, and a scanner in Germany trying twelve accounts. */
function events(): SecurityEvent[] {
  const captured = captureEvents();
  const shift = Date.now() - 60_000 - Math.max(...captured.map((e) => e.at));
  const german = Array.from({ length: 12 }, (_, i): SecurityEvent => ({ kind: 'invalid_account', at: Date.now() - 30_000 + i, service: 'PJSIP', account: `${200 + i}`, address: '80.128.0.1', detail: 'InvalidAccountID' }));
  const abroad: SecurityEvent = { kind: 'successful_auth', at: Date.now() - 20_000, service: 'PJSIP', account: '1001', address: '81.128.0.1', detail: 'SuccessfulAuth' };
  return [...captured.map((e) => ({ ...e, at: e.at + shift })), ...german, abroad];
}

beforeAll(async () => {
  buildDashboard();
  dir = mkdtempSync(join(tmpdir(), 'dialguard-sources-'));
  const config = loadConfig({
    env: {
      DIALGUARD_DB: join(dir, 'dialguard.db'),
      DIALGUARD_AGI_LISTEN: '127.0.0.1:0',
      DIALGUARD_HTTP_LISTEN: '127.0.0.1:0',
      DIALGUARD_HOME_COUNTRY: 'US',
      DIALGUARD_TIMEZONE: 'America/New_York',
      DIALGUARD_ADMIN_TOKEN: TOKEN,
    },
  });
  server = await startServer(config, createLogger('silent'));
  for (const event of events()) server.intrusion.sink.accept(event);
  await server.intrusion.settled();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe.runIf(await requireDependency('Chromium', chromiumMissing))('the Sources page in a browser', () => {
  it('shows the top sources, the chart by country, the successes from new places and the suspicious list, under the strict CSP', async () => {
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(10_000);
    await page.exposeFunction('reportCspViolation', (text: string) => cspViolations.push(text));
    await page.addInitScript("document.addEventListener('securitypolicyviolation', (e) => reportCspViolation(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'}`))");
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) cspViolations.push(`console: ${message.text()}`);
    });

    await page.goto(`http://127.0.0.1:${server.http.port}/#sources`);
    await page.getByLabel('API token').fill(TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Sources', level: 1 }).waitFor();
    expect(await page.getByRole('link', { name: 'Sources' }).getAttribute('aria-current')).toBe('page');

    const rows = page.locator('#sources-table tbody tr');
    expect(await rows.count()).toBe(7);
    expect(await rows.nth(0).innerText()).toMatch(/^127\.0\.0\.5\s+unknown\s+13\s+0\s+127, 128, 129, 1000, 1002, 1003, 1004, 1005 … \(13\)/);
    expect(await rows.nth(1).innerText()).toMatch(/^80\.128\.0\.1\s+DE\s+12\s+0\s+200, 201/);

    const chart = page.getByRole('figure', { name: 'Failures by source country' });
    expect(await chart.locator('li').allInnerTexts()).toEqual([expect.stringMatching(/^unknown\s+23$/), expect.stringMatching(/^DE\s+12$/)]);

    const place = page.locator('#new-places-table tbody tr');
    expect(await place.count()).toBe(1);
    expect(await place.first().innerText()).toMatch(/1001\s+81\.128\.0\.1\s+GB\s+new address/);

    expect(await page.locator('#suspicious-table tbody tr').allInnerTexts()).toEqual([
      expect.stringMatching(/^127\.0\.0\.0\/24\s+23\s+unknown$/),
      expect.stringMatching(/^80\.128\.0\.1\s+12\s+DE$/),
    ]);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-sources.png'), fullPage: true });
    expect(cspViolations).toEqual([]);
  });
});
