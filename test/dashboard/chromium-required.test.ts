import { describe, expect, it } from 'vitest';
import { runVitest } from '../support/vitest-run.js';

/** The browser test as CI runs it, on a machine whose Chromium is not where the test looks. */
const runWithoutChromium = (ci: string | undefined) =>
  runVitest(['test/dashboard/dashboard.test.ts'], { CI: ci, DIALGUARD_CHROMIUM: '/nonexistent/chromium' });

describe('the dashboard test without Chromium', () => {
  it('fails under CI=true, naming what is missing', () => {
    const run = runWithoutChromium('true');
    expect(run.closingLine, run.output).toBe('0 passed, 1 failed');
    expect(run.status).not.toBe(0);
    expect(run.output).toContain('Chromium is required under CI=true: no executable Chromium at /nonexistent/chromium');
  });

  it('outside CI, is skipped loudly and counted as skipped', () => {
    const run = runWithoutChromium(undefined);
    expect(run.closingLine, run.output).toMatch(/^0 passed, 0 failed, \d+ skipped$/);
    expect(run.status).toBe(0);
    expect(run.output).toContain('SKIPPED: these tests need Chromium: no executable Chromium at /nonexistent/chromium');
  });
});
