import { describe, expect, it } from 'vitest';

describe('a suite that throws while its tests are collected', () => {
  it('collected', () => expect(1).toBe(1));
  throw new Error('collection failed');
});
