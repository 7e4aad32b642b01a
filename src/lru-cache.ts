/**
 * A bounded memo for pure functions of a string: the `capacity` most recently used results are
 * kept, the least recently used goes first. Inputs come from calls (dialled numbers, signalling
 * addresses), which an attacker can vary without end: every cache of them must have a bound.
 */
export class LruCache<V> {
  private readonly entries = new Map<string, V>();

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** The value kept for `key`, or `compute(key)`, kept. */
  get(key: string, compute: (key: string) => V): V {
    const entries = this.entries;
    if (entries.has(key)) {
      const hit = entries.get(key) as V;
      // Re-insert: a Map keeps insertion order, so the first key is the least recently used.
      entries.delete(key);
      entries.set(key, hit);
      return hit;
    }
    const value = compute(key);
    entries.set(key, value);
    if (entries.size > this.capacity) entries.delete(entries.keys().next().value as string);
    return value;
  }
}
