import { describe, expect, it } from 'vitest';
import { createIdFactory } from '../../src/store/ids.js';

describe('call ids', () => {
  it('are 26-character ULIDs whose time part decodes to the millisecond given', () => {
    const id = createIdFactory()(Date.UTC(2026, 10, 21, 13, 0, 0));
    expect(id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
    const ms = [...id.slice(0, 10)].reduce((acc, ch) => acc * 32 + alphabet.indexOf(ch), 0);
    expect(ms).toBe(Date.UTC(2026, 10, 21, 13, 0, 0));
  });

  it('sort in creation order, within one millisecond and across many', () => {
    const next = createIdFactory();
    const ids: string[] = [];
    for (let i = 0; i < 5000; i++) ids.push(next(1_795_000_000_000 + Math.floor(i / 7)));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('stay ordered when the clock steps back', () => {
    const next = createIdFactory();
    const a = next(2_000);
    const b = next(1_000);
    expect(b > a).toBe(true);
  });

  it('two factories (two processes) do not collide', () => {
    const a = createIdFactory();
    const b = createIdFactory();
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      seen.add(a(1_000 + i));
      seen.add(b(1_000 + i));
    }
    expect(seen.size).toBe(4000);
  });
});
