import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { authorizeEnv, playAsteriskSession } from '../support/asterisk-agi.js';
import { requireDependency } from '../support/require-dependency.js';
import { startServe, type ServeProcess } from '../support/serve-process.js';
import { ARTIFACTS, DASHBOARD_HEADERS, buildDashboard, chromiumMissing, launchChromium } from './browser.js';

/**
 * An administrator opens the dashboard of a real `dialguard serve` in headless Chromium.
 * The steps build on each other (one browser session, one database), so they run in order.
 */
let dir: string;
let serve: ServeProcess;
let browser: Browser;
let page: Page;
let base: string;
/** What the browser refused under the Content-Security-Policy, from the event and from the console. */
const cspViolations: string[] = [];
/** The headers of every response from the dashboard's own files (not the API), by path. */
const fileHeaders = new Map<string, Record<string, string>>();

const shot = (name: string): Promise<Buffer> => page.screenshot({ path: join(ARTIFACTS, `dashboard-${name}.png`), fullPage: true });

beforeAll(async () => {
  buildDashboard();
  dir = mkdtempSync(join(tmpdir(), 'dialguard-dashboard-'));
  serve = await startServe(join(dir, 'dialguard.db'));
  base = `http://127.0.0.1:${serve.httpPort}`;
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  // Fail on the step that waits, well before the test's own timeout, with the locator named.
  page.setDefaultTimeout(10_000);
  // A binding and an init script are the browser's own doing, outside the page's policy. Chromium
  // also logs each violation ("Applying inline style violates…", formerly "Refused to…").
  await page.exposeFunction('reportCspViolation', (text: string) => cspViolations.push(text));
  await page.addInitScript(
    "document.addEventListener('securitypolicyviolation', (e) => reportCspViolation(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} at ${e.sourceFile}:${e.lineNumber}`))",
  );
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) cspViolations.push(`console: ${message.text()}`);
  });
  page.on('response', (response) => {
    const { pathname } = new URL(response.url());
    if (!pathname.startsWith('/api/')) fileHeaders.set(pathname, response.headers());
  });
}, 60_000);
// What the browser showed when a step failed, for whoever reads the failure.
afterEach(async ({ task }) => {
  if (task.result?.state === 'fail') await page?.screenshot({ path: join(ARTIFACTS, `dashboard-failed-${task.name.replace(/\W+/g, '-')}.png`), fullPage: true });
});
afterAll(async () => {
  await browser?.close();
  await serve?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe.runIf(await requireDependency('Chromium', chromiumMissing))('the dashboard in a browser', () => {
  it('refuses a wrong token, then signs in with the admin token and keeps it for the tab', async () => {
    await page.goto(`${base}/`);
    await page.getByLabel('API token').fill('dg_wrong-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByText('That token is not valid.').waitFor()).resolves.toBeUndefined();
    // By keyboard alone: the token field has the focus, Enter signs in.
    await page.keyboard.type(serve.adminToken as string);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: /^Live/ }).waitFor();
    expect(await page.evaluate("sessionStorage.getItem('dialguard.token')")).toBe(serve.adminToken);
    expect(await page.evaluate('localStorage.length')).toBe(0);
  });

  it('got the page, its scripts and its style sheet with the strict headers', () => {
    expect([...fileHeaders.keys()]).toEqual(expect.arrayContaining(['/', '/app.js', '/live.js', '/style.css']));
    for (const [path, headers] of fileHeaders) expect({ path, ...headers }).toMatchObject({ path, ...DASHBOARD_HEADERS });
  });

  it('shows a call placed over FastAGI on the live page without a reload', async () => {
    await page.getByText('connected', { exact: true }).waitFor();
    await page.evaluate('window.notReloaded = true');
    const call = await playAsteriskSession({ port: serve.agiPort, env: authorizeEnv({ ext: '1001', number: '0115352123456', source: '10.0.0.5:5060', origin: 'phone' }) });
    expect(call.variables.get('DIALGUARD_RESULT')).toBe('DENY');
    const row = page.locator(`#live-rows tr[data-id="${call.variables.get('DIALGUARD_CALL_ID')}"]`);
    await row.waitFor({ timeout: 5000 });
    expect(await row.innerText()).toMatch(/DENY\s+destination_country_denied\s+1001\s+\+5352123456\s+CU\s+10\.0\.0\.5/);
    await page.locator('#denied-count strong', { hasText: '1' }).waitFor();
    await page.getByRole('figure', { name: 'By reason' }).getByText('destination_country_denied').waitFor();
    expect(await page.evaluate('window.notReloaded')).toBe(true);
    await shot('live');
  });

  it('shows an alert raised by calls as it happens, acknowledges it, and resets an open circuit breaker', async () => {
    const admin = (path: string, method: string, body: unknown): Promise<Response> =>
      fetch(`${base}/api/v1${path}`, { method, headers: { authorization: `Bearer ${serve.adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await admin('/extensions/1003', 'PUT', { velocity: { maxDeniedPerHour: 1, lockOnBreach: false } })).status).toBe(201);
    expect((await admin('/extensions/1004', 'PUT', { destinations: { allowCountries: ['US', 'GB'] } })).status).toBe(201);
    expect((await admin('/circuit-breaker', 'PUT', { internationalSpendPerHour: 0 })).status).toBe(200);
    for (let i = 0; i < 2; i++) await playAsteriskSession({ port: serve.agiPort, env: authorizeEnv({ ext: '1003', number: '0115352123456', source: '10.0.0.5:5060', origin: 'phone' }) });
    await playAsteriskSession({ port: serve.agiPort, env: authorizeEnv({ ext: '1004', number: '011442071234567', source: '10.0.0.5:5060', origin: 'phone' }) });

    const alert = page.locator('.alerts li', { hasText: '1003' }).first();
    await alert.waitFor({ timeout: 5000 });
    await page.locator('#breaker-state', { hasText: /^OPEN: .*opened by a call from extension 1004$/ }).waitFor({ timeout: 5000 });
    await shot('live-alerts');
    const open = await page.locator('.alerts li').count();
    await alert.getByRole('button', { name: 'Acknowledge' }).click();
    await page.getByRole('heading', { name: `Open alerts (${open - 1})` }).waitFor();
    await page.getByRole('button', { name: 'Reset the circuit breaker' }).click();
    await page.locator('#breaker-state', { hasText: /^closed/ }).waitFor();
    expect((await admin('/circuit-breaker', 'PUT', { internationalSpendPerHour: null })).status).toBe(200);
  });

  it('shows a bad CIDR next to its field, then saves the policy with If-Match', async () => {
    await page.goto(`${base}/#extensions/1001`);
    const cidrs = page.getByLabel('Allowed source networks (CIDR)');
    await cidrs.fill('10.0.0.300/8');
    await page.getByRole('button', { name: 'Save policy' }).click();
    const error = page.locator('#policy-geofence-allowCidrs-error');
    await error.getByText('"10.0.0.300/8" is not a valid CIDR').waitFor();
    expect(await cidrs.getAttribute('aria-invalid')).toBe('true');
    await shot('extension-invalid');

    await cidrs.fill('10.0.0.0/8, 192.168.10.0/24');
    await page.getByLabel('Daily spend limit').fill('7.5');
    await page.getByRole('button', { name: 'Save policy' }).click();
    const heading = page.getByRole('heading', { name: /^Policy \(version \d+\)$/ });
    await heading.waitFor();
    await page.getByText('Saved.').waitFor();
    const first = Number(/\d+/.exec(await heading.innerText())?.[0]);
    const stored = (await (await fetch(`${base}/api/v1/extensions/1001`, { headers: { authorization: `Bearer ${serve.adminToken}` } })).json()) as { overrides: unknown };
    expect(stored.overrides).toEqual({ geofence: { allowCidrs: ['10.0.0.0/8', '192.168.10.0/24'] }, budget: { dailySpend: 7.5 } });

    // Someone else changes the policy behind the page's back: the page's save sends If-Match and is refused.
    const behind = await fetch(`${base}/api/v1/extensions/1001`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${serve.adminToken}`, 'content-type': 'application/merge-patch+json' },
      body: JSON.stringify({ budget: { dailyMinutes: 300 } }),
    });
    expect(behind.status).toBe(200);
    await page.getByLabel('Allowed destination countries').fill('US, CA');
    await page.getByRole('button', { name: 'Save policy' }).click();
    await page.locator('#save-status', { hasText: `Not saved: changed since you read it: the current version is ${first + 1}` }).waitFor();
    await page.reload();
    await page.getByLabel('Allowed destination countries').fill('US, CA');
    await page.getByRole('button', { name: 'Save policy' }).click();
    await page.getByRole('heading', { name: `Policy (version ${first + 2})` }).waitFor();
    expect(await page.locator('#history li').count()).toBe(3);
  });

  it('locks and unlocks the extension', async () => {
    await page.getByLabel('Reason to lock').fill('fraud suspected');
    await page.getByRole('button', { name: 'Lock' }).click();
    await page.locator('#lock-state', { hasText: 'locked fraud suspected' }).waitFor();
    await shot('extension-locked');
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.locator('#lock-state', { hasText: /^unlocked$/ }).waitFor();
    await page.goto(`${base}/#extensions`);
    const row = page.locator('#extensions-table tbody tr', { hasText: '1001' });
    await row.waitFor();
    expect(await row.innerText()).toMatch(/1001\s+enforce\s+unlocked\s+0 USD \/ 7.5 USD/);
    await shot('extensions');
  });

  it('searches the audit, opens a decision with every check, and exports CSV', async () => {
    await playAsteriskSession({ port: serve.agiPort, env: authorizeEnv({ ext: '1002', number: '12125550123', source: '10.0.0.6:5060', origin: 'phone' }) });
    await page.goto(`${base}/#audit`);
    await page.locator('#audit-table tbody tr').nth(1).waitFor();
    await page.getByLabel('Extension').fill('1001');
    await page.getByLabel('Result').selectOption('DENY');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText('1 decision shown.').waitFor();
    await page.locator('#audit-table tbody tr button').first().click();
    const detail = page.locator('#decision-detail');
    await detail.getByRole('heading', { name: /^Decision / }).waitFor();
    expect(await detail.locator('tr.fail').first().innerText()).toMatch(/destination\s+fail\s+destination_country_denied/);
    expect(await detail.locator('table.checks tbody tr').count()).toBeGreaterThanOrEqual(8);
    // Skipped checks are shown too, on the page and not pushed off it.
    expect((await detail.locator('tr.skip').first().boundingBox())?.x).toBeGreaterThanOrEqual(0);
    await shot('audit');

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
    expect(download.suggestedFilename()).toMatch(/^dialguard-decisions-.*\.csv$/);
    const csv = readFileSync((await download.path()) as string, 'utf8').trim().split(/\r?\n/);
    expect(csv[0]).toMatch(/^id,at,transport,ext,/);
    expect(csv).toHaveLength(2);
    expect(csv[1]).toContain('destination_country_denied');
  });

  it('answers "would this call pass?" without placing it', async () => {
    await page.goto(`${base}/#simulate`);
    await page.getByLabel('Extension').fill('1001');
    await page.getByLabel('Number as dialled').fill('12125550123');
    await page.getByLabel('Source address (optional)').fill('10.0.0.5:5060');
    await page.getByRole('button', { name: 'Would this call pass?' }).click();
    await page.locator('#simulate-result h2', { hasText: 'ALLOW allowed' }).waitFor();
    await shot('simulate');
  });

  it('stays readable on a phone-sized screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${base}/#live`);
    await page.getByText('connected', { exact: true }).waitFor();
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    await shot('live-phone');
  });

  it('did all of the above under its Content-Security-Policy, with nothing refused', () => {
    expect(fileHeaders.get('/')?.['content-security-policy']).toBe(DASHBOARD_HEADERS['content-security-policy']);
    expect(cspViolations).toEqual([]);
  });
});
