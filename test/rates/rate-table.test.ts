import { describe, expect, it } from 'vitest';
import { affordableSeconds, billedSeconds, compileRates, costMicros, priceRate, toMicros } from '../../src/rates/rate-table.js';

const perMinute = (amount: number, increment = 60, minimum?: number) =>
  priceRate({ prefix: '+44', perMinute: amount, increment, ...(minimum ? { minimum } : {}) });

describe('billing', () => {
  it('bills 60/60: a 61 s call costs two minutes', () => {
    const rate = perMinute(0.1);
    expect(billedSeconds(rate, 61)).toBe(120);
    expect(costMicros(rate, 61)).toBe(toMicros(0.2));
  });

  it('bills 30/6: a 31 s call is billed 36 s', () => {
    const rate = perMinute(0.6, 6, 30);
    expect(billedSeconds(rate, 1)).toBe(30);
    expect(billedSeconds(rate, 31)).toBe(36);
    expect(costMicros(rate, 31)).toBe(toMicros(0.36));
  });

  it('an unanswered call costs nothing', () => {
    expect(costMicros(perMinute(5), 0)).toBe(0);
  });
});

describe('affordable seconds', () => {
  it('is the longest call whose cost fits the budget, on a billing boundary', () => {
    const rate = perMinute(0.5); // 60/60
    expect(affordableSeconds(rate, toMicros(1.49))).toBe(120);
    expect(affordableSeconds(rate, toMicros(1.5))).toBe(180);
    expect(costMicros(rate, affordableSeconds(rate, toMicros(1.49)))).toBeLessThanOrEqual(toMicros(1.49));
  });

  it('never exceeds the budget over many odd rates and budgets', () => {
    for (const [pm, inc, min] of [
      [0.013, 1, 1],
      [0.37, 6, 30],
      [2.99, 60, 60],
      [0.0001, 1, 1],
    ] as const) {
      const rate = perMinute(pm, inc, min);
      for (let budget = 1; budget < 5_000_000; budget += 7919) {
        const t = affordableSeconds(rate, budget);
        expect(costMicros(rate, t)).toBeLessThanOrEqual(budget);
        // One more increment would not fit.
        if (t > 0) expect(costMicros(rate, t + 1)).toBeGreaterThan(budget);
      }
    }
  });

  it('is unlimited for a free destination and zero without money', () => {
    expect(affordableSeconds(perMinute(0), 0)).toBe(Number.POSITIVE_INFINITY);
    expect(affordableSeconds(perMinute(1), 0)).toBe(0);
  });
});

describe('rate table', () => {
  it('prices by the longest prefix and falls back to the catch-all', () => {
    const rates = compileRates([
      { prefix: '+', perMinute: 1, increment: 60 },
      { prefix: '+44', perMinute: 0.02, increment: 60 },
      { prefix: '+447', perMinute: 0.1, increment: 1 },
    ]);
    expect(rates.rateFor('+447911123456').perMinuteMicros).toBe(toMicros(0.1));
    expect(rates.rateFor('+442079460000').perMinuteMicros).toBe(toMicros(0.02));
    expect(rates.rateFor('+5355512345').prefix).toBe('+');
  });

  it('prices an unmatched destination dearly when the table has no catch-all', () => {
    expect(compileRates([{ prefix: '+1', perMinute: 0.01, increment: 60 }]).rateFor('+5355512345').perMinuteMicros).toBe(toMicros(1));
  });
});
