import { describe, expect, it } from 'vitest';
import { LruCache } from '../src/lru-cache.js';

describe('LruCache', () => {
  it('computes a key once and then gives the kept value', () => {
    const cache = new LruCache<number>(10);
    let calls = 0;
    const compute = (key: string): number => {
      calls++;
      return key.length;
    };
    expect(cache.get('abc', compute)).toBe(3);
    expect(cache.get('abc', compute)).toBe(3);
    expect(calls).toBe(1);
  });

  it('keeps a null result too', () => {
    const cache = new LruCache<string | null>(10);
    let calls = 0;
    const compute = (): null => {
      calls++;
      return null;
    };
    cache.get('x', compute);
    cache.get('x', compute);
    expect(calls).toBe(1);
  });

  it('never holds more than its capacity, and drops the least recently used first', () => {
    const cache = new LruCache<string>(3);
    const seen: string[] = [];
    const compute = (key: string): string => {
      seen.push(key);
      return key;
    };
    for (const key of ['a', 'b', 'c']) cache.get(key, compute);
    cache.get('a', compute); // a is now the most recently used: b goes first
    cache.get('d', compute);
    expect(cache.size).toBe(3);
    seen.length = 0;
    for (const key of ['a', 'c', 'd']) cache.get(key, compute);
    expect(seen).toEqual([]);
    cache.get('b', compute);
    expect(seen).toEqual(['b']);
    for (let i = 0; i < 1000; i++) cache.get(`k${i}`, compute);
    expect(cache.size).toBe(3);
  });
});
