import { describe, expect, it } from 'vitest';

describe('a suite that runs', () => {
  it('passes', () => expect(1).toBe(1));
  it('passes too', () => expect(2).toBe(2));
  it.skip('is skipped on purpose', () => expect(3).toBe(3));
});
