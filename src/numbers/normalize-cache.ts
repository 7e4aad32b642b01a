import type { NormalizedNumber } from '../domain/number.js';
import { LruCache } from '../lru-cache.js';
import { normalizeNumber, type NormalizeOptions } from './normalize.js';

const cache = new LruCache<Readonly<NormalizedNumber>>(20_000);

/**
 * normalizeNumber with a bounded LRU in front: parsing with libphonenumber's full metadata is
 * the dearest part of a decision, and offices dial the same numbers all day. The result is a
 * pure function of its inputs, so a cached one is the same answer.
 */
export function normalizeCached(dialled: string, opts: NormalizeOptions): Readonly<NormalizedNumber> {
  return cache.get(`${opts.homeCountry}|${opts.accessPrefix}|${dialled}`, () => Object.freeze(normalizeNumber(dialled, opts)));
}
