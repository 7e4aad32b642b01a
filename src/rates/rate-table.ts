import type { PricedRate, Rate } from '../domain/rate.js';
import { PrefixMatcher } from '../numbers/prefix-matcher.js';

/**
 * What an unmatched destination costs when the table has no `+` line: dear enough that a
 * budget binds quickly, because an unpriced destination is exactly where fraud goes.
 */
export const FALLBACK_RATE: Rate = { prefix: '+', perMinute: 1, increment: 60 };

/** Rates are priced in integer micro-units so that budgets never drift on float rounding. */
export const MICROS = 1_000_000;
export const toMicros = (amount: number): number => Math.round(amount * MICROS);
export const fromMicros = (micros: number): number => micros / MICROS;

export function priceRate(rate: Rate): PricedRate {
  return {
    prefix: rate.prefix,
    perMinuteMicros: toMicros(rate.perMinute),
    increment: rate.increment,
    minimum: rate.minimum ?? rate.increment,
  };
}

/** Seconds the carrier bills for a call that lasted `seconds`. */
export function billedSeconds(rate: PricedRate, seconds: number): number {
  if (seconds <= 0) return 0;
  if (seconds <= rate.minimum) return rate.minimum;
  return rate.minimum + Math.ceil((seconds - rate.minimum) / rate.increment) * rate.increment;
}

export function costMicros(rate: PricedRate, seconds: number): number {
  return Math.ceil((billedSeconds(rate, seconds) * rate.perMinuteMicros) / 60);
}

/**
 * The longest call whose cost fits in `budgetMicros`: always a billing boundary, so that
 * `costMicros(rate, result) <= budgetMicros` holds exactly.
 */
export function affordableSeconds(rate: PricedRate, budgetMicros: number): number {
  if (rate.perMinuteMicros === 0) return Number.POSITIVE_INFINITY;
  if (budgetMicros <= 0) return 0;
  // ceil(b * p / 60) <= B  <=>  b * p <= 60 * B, all integers.
  const billable = Math.floor((60 * budgetMicros) / rate.perMinuteMicros);
  if (billable < rate.minimum) return 0;
  return rate.minimum + Math.floor((billable - rate.minimum) / rate.increment) * rate.increment;
}

export interface RateTable {
  rateFor(e164: string): PricedRate;
}

export function compileRates(rates: readonly Rate[]): RateTable {
  const matcher = new PrefixMatcher<PricedRate>(rates.map((r) => [r.prefix, priceRate(r)] as const));
  const fallback = priceRate(FALLBACK_RATE);
  return { rateFor: (e164) => matcher.match(e164)?.value ?? fallback };
}

/**
 * Rates a fresh database starts with: home-country calls cheap, everything else priced high,
 * so that the default budgets stop an unpriced international run within minutes.
 */
export function seedRates(homeCallingCode: string): Rate[] {
  return [
    { prefix: '+', perMinute: 1, increment: 60 },
    { prefix: `+${homeCallingCode}`, perMinute: 0.02, increment: 60 },
  ];
}
