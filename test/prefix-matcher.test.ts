import { describe, expect, it } from 'vitest';
import { PrefixMatcher } from '../src/numbers/prefix-matcher.js';

describe('PrefixMatcher', () => {
  it('returns the longest matching prefix', () => {
    const m = new PrefixMatcher<number>([
      ['+', 1],
      ['+44', 2],
      ['+447', 3],
    ]);
    expect(m.match('+447911123456')).toEqual({ prefix: '+447', value: 3 });
    expect(m.match('+442079460000')).toEqual({ prefix: '+44', value: 2 });
    expect(m.match('+33123456789')).toEqual({ prefix: '+', value: 1 });
  });

  it('answers null when nothing matches', () => {
    expect(new PrefixMatcher<number>([['+44', 1]]).match('+33123')).toBeNull();
  });
});
