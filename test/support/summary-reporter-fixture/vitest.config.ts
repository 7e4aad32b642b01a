import { defineConfig } from 'vitest/config';

/**
 * Runs the files of this folder (never picked up by the project's own run: they end in .fixture.ts)
 * with the summary reporter alone, for test/support/summary-reporter.test.ts.
 */
export default defineConfig({
  test: {
    root: import.meta.dirname,
    include: ['*.fixture.ts'],
    reporters: ['../summary-reporter.ts'],
  },
});
