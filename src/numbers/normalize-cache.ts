import type { NormalizedNumber } from '../domain/number.js';
import { normalizeNumber, type NormalizeOptions } from './normalize.js';

const CAPACITY = 20_000;
const cache = new Map<string, Readonly<NormalizedNumber>>();

/**
 * normalizeNumber with a bounded LRU in front: parsing with libphonenumber's full metadata is
 * the dearest part of a decision, and offices dial the same numbers all day. The result is a
 * pure function of its inputs, so a cached one is the same answer.
 */
export function normalizeCached(dialled: string, opts: NormalizeOptions): Readonly<NormalizedNumber> {
  const key = `${opts.homeCountry}|${opts.accessPrefix}|${dialled}`;
  const hit = cache.get(key);
  if (hit) {
    // Re-insert: Map keeps insertion order, so the oldest entry is the least recently used.
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  const value = Object.freeze(normalizeNumber(dialled, opts));
  cache.set(key, value);
  if (cache.size > CAPACITY) cache.delete(cache.keys().next().value as string);
  return value;
}
