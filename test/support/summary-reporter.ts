import type { SerializedError } from 'vitest';
import type { Reporter, TestModule, TestSuite } from 'vitest/node';

interface Tally {
  passed: number;
  failed: number;
  skipped: number;
}

/**
 * Prints one plain closing line, `N passed, N failed`, after vitest's own summary: the line CI
 * reads. A suite that failed to start (a hook that threw, a file that did not load or collect)
 * is a failure there, never a skip: vitest reports its tests as skipped, but they did not pass.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError>): void {
    const tally: Tally = { passed: 0, failed: 0, skipped: 0 };
    for (const mod of testModules) count(mod, false, tally);
    // An error outside any test (an unhandled rejection) fails the run too.
    tally.failed += unhandledErrors.length;
    const tail = tally.skipped ? `, ${tally.skipped} skipped` : '';
    process.stdout.write(`\n${tally.passed} passed, ${tally.failed} failed${tail}\n`);
  }
}

/** Adds the tests of a file or suite to the tally; returns how many did not run because a set-up failed. */
function count(entity: TestModule | TestSuite, setUpFailed: boolean, tally: Tally): number {
  const broken = setUpFailed || entity.errors().length > 0;
  let notRun = 0;
  for (const child of entity.children) {
    if (child.type === 'suite') {
      notRun += count(child, broken, tally);
      continue;
    }
    const { state } = child.result();
    const skippedOnPurpose = child.options.mode === 'skip' || child.options.mode === 'todo';
    if (state === 'passed') tally.passed++;
    else if (state === 'failed') tally.failed++;
    else if (broken && !skippedOnPurpose) {
      tally.failed++;
      notRun++;
    } else tally.skipped++;
  }
  // An error that no test stands for: a file that never loaded, an afterAll that threw after its tests passed.
  if (entity.errors().length > 0 && notRun === 0) tally.failed++;
  return notRun;
}
