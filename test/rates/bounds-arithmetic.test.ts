import { describe, expect, it } from 'vitest';
import { MAX_AMOUNT, MAX_BILLING_SECONDS, MAX_CALL_SECONDS, MAX_RATE_PER_MINUTE, SETTLEMENT_TOLERANCE_SECONDS } from '../../src/bounds.js';
import { affordableSeconds, billedSeconds, costMicros, priceRate, toMicros } from '../../src/rates/rate-table.js';

/** The bounds are what keeps the integer micro-unit arithmetic exact: a change to them that breaks it fails here. */
describe('rate arithmetic at the bounds', () => {
  const dearest = priceRate({ prefix: '+', perMinute: MAX_RATE_PER_MINUTE, increment: MAX_BILLING_SECONDS, minimum: MAX_BILLING_SECONDS });
  const longest = MAX_CALL_SECONDS + SETTLEMENT_TOLERANCE_SECONDS;

  it('the longest billed call at the dearest rate stays an exact integer product', () => {
    expect(Number.isSafeInteger(billedSeconds(dearest, longest) * dearest.perMinuteMicros)).toBe(true);
    expect(Number.isSafeInteger(costMicros(dearest, longest))).toBe(true);
  });

  it('the largest budget stays exact in affordableSeconds, and what it grants fits the budget', () => {
    const budget = toMicros(MAX_AMOUNT);
    expect(Number.isSafeInteger(60 * budget)).toBe(true);
    const cheapest = priceRate({ prefix: '+', perMinute: 0.000001, increment: 1 });
    for (const rate of [dearest, cheapest]) {
      const seconds = affordableSeconds(rate, budget);
      expect(costMicros(rate, seconds)).toBeLessThanOrEqual(budget);
    }
  });
});
