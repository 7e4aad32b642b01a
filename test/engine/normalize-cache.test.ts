import { describe, expect, it } from 'vitest';
import { normalizeCached } from '../../src/numbers/normalize-cache.js';
import { normalizeNumber } from '../../src/numbers/normalize.js';

describe('the number cache', () => {
  it('answers exactly what the parser answers, per home country and access prefix', () => {
    for (const [dialled, homeCountry, accessPrefix] of [
      ['011442079460000', 'US', ''],
      ['9011442079460000', 'US', '9'],
      ['02079460000', 'GB', ''],
      ['911', 'US', ''],
      ['12345', 'US', ''],
    ] as const) {
      const opts = { homeCountry, accessPrefix };
      expect(normalizeCached(dialled, opts)).toEqual(normalizeNumber(dialled, opts));
      // The second answer comes from the cache and is the same.
      expect(normalizeCached(dialled, opts)).toEqual(normalizeNumber(dialled, opts));
    }
  });

  it('does not mix home countries: 02079460000 is London for GB and invalid for US', () => {
    expect(normalizeCached('02079460000', { homeCountry: 'GB', accessPrefix: '' }).e164).toBe('+442079460000');
    expect(normalizeCached('02079460000', { homeCountry: 'US', accessPrefix: '' }).valid).toBe(false);
  });

  it('hands out frozen answers, so no check can change what the next call sees', () => {
    expect(Object.isFrozen(normalizeCached('12125550123', { homeCountry: 'US', accessPrefix: '' }))).toBe(true);
  });
});
