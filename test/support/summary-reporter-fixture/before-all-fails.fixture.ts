import { beforeAll, describe, expect, it } from 'vitest';

// What a browser suite does when Chromium will not start.
describe('a suite whose set-up fails', () => {
  beforeAll(() => {
    throw new Error('set-up failed');
  });
  it('never runs', () => expect(1).toBe(1));
  it('never runs either', () => expect(1).toBe(1));
  it('nor this one', () => expect(1).toBe(1));
});
