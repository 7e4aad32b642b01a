import { beforeAll, expect, it } from 'vitest';

// A file-level hook, as in test/dashboard/dashboard.test.ts.
beforeAll(() => {
  throw new Error('set-up failed');
});
it('never runs', () => expect(1).toBe(1));
it('never runs either', () => expect(1).toBe(1));
