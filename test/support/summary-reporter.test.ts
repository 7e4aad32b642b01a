import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './captures.js';
import { runVitest } from './vitest-run.js';

const FIXTURE_CONFIG = join(repoRoot, 'test/support/summary-reporter-fixture/vitest.config.ts');

/** The fixture files matching `filter`, with the summary reporter alone. */
const runFixture = (filter: string) => runVitest(['--config', FIXTURE_CONFIG, filter]);

describe('the closing line CI reads', () => {
  it('counts passed and skipped tests of a run that went well, and the run exits 0', () => {
    const run = runFixture('passes');
    expect(run.closingLine, run.output).toBe('2 passed, 0 failed, 1 skipped');
    expect(run.status).toBe(0);
  });

  it.each([
    ['a beforeAll of a describe throws', 'before-all-fails', '0 passed, 3 failed'],
    ['a file-level beforeAll throws', 'file-hook-fails', '0 passed, 2 failed'],
    ['a file does not load (missing import)', 'import-fails', '0 passed, 1 failed'],
    ['a describe throws while collecting', 'collection-fails', '0 passed, 1 failed'],
    ['an afterAll throws after its tests passed', 'after-all-fails', '1 passed, 1 failed'],
    ['a test leaves an unhandled rejection', 'unhandled-rejection', '1 passed, 1 failed'],
  ])('an error outside a test is a failure, not a skip: %s', (_, filter, line) => {
    const run = runFixture(filter);
    expect(run.closingLine, run.output).toBe(line);
    expect(run.status).not.toBe(0);
  });

  it('sums a run that mixes them, and the run still exits non-zero', () => {
    const run = runFixture('fixture');
    expect(run.closingLine, run.output).toBe('4 passed, 9 failed, 1 skipped');
    expect(run.status).not.toBe(0);
  });
});
