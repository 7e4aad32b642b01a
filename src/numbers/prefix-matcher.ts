/**
 * Longest-prefix lookup over E.164 strings ("+44", "+88213"), used by rates, blocked
 * prefixes and the high-risk list. Built once per policy version; a lookup walks at most
 * 16 map probes (E.164 is at most 15 digits), whatever the size of the table.
 */
export class PrefixMatcher<T> {
  private readonly entries = new Map<string, T>();
  private maxLength = 0;

  constructor(pairs: Iterable<readonly [string, T]> = []) {
    for (const [prefix, value] of pairs) this.set(prefix, value);
  }

  set(prefix: string, value: T): void {
    this.entries.set(prefix, value);
    if (prefix.length > this.maxLength) this.maxLength = prefix.length;
  }

  /** The value of the longest prefix of `e164`, with that prefix. */
  match(e164: string): { prefix: string; value: T } | null {
    for (let len = Math.min(this.maxLength, e164.length); len >= 1; len--) {
      const prefix = e164.slice(0, len);
      const value = this.entries.get(prefix);
      if (value !== undefined) return { prefix, value };
    }
    return null;
  }

  get size(): number {
    return this.entries.size;
  }
}
