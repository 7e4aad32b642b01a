import { MAX_POLICY_NUMBER, SETTLEMENT_TOLERANCE_SECONDS } from '../bounds.js';
import { StoredValueError } from '../errors.js';

/**
 * The store's last line of defence against numbers the schemas should have refused, and what
 * it believes of a settlement: any store implementation calls these on what it is about to
 * write. JSON.stringify writes Infinity and NaN as null, and a policy number past every bound
 * (1.797e308) prices calls at Infinity, so neither may reach the database.
 */

/** JSON text of a policy value (overrides, rates, a site list), if every number in it is one a policy field admits. */
export function policyJson(value: unknown, what: string): string {
  return JSON.stringify(value, (key: string, v: unknown) => {
    if (typeof v === 'number' && !(v >= 0 && v <= MAX_POLICY_NUMBER)) {
      throw new StoredValueError(`refusing to store ${what}: "${key}" is ${v}, not a number from 0 to ${MAX_POLICY_NUMBER}`);
    }
    return v;
  });
}

/** `value` if it is a whole number from 0 to `max` (micro-units, seconds), else a StoredValueError. */
export function storedInteger(value: number, max: number, what: string): number {
  if (Number.isSafeInteger(value) && value >= 0 && value <= max) return value;
  throw new StoredValueError(`refusing to store ${what}: ${value} is not a whole number from 0 to ${max}`);
}

/**
 * The seconds a settlement charges. Dial's L() ended the call at its limit, so seconds reported
 * past the limit plus the tolerance (1e308, Infinity) are not believed: they are clamped to it,
 * and the charge and the usage totals stay bounded.
 */
export function settledSeconds(reported: number, limitSeconds: number): { answered: number; clamped: boolean } {
  if (Number.isNaN(reported)) throw new StoredValueError('refusing to settle NaN seconds');
  const ceiling = limitSeconds + SETTLEMENT_TOLERANCE_SECONDS;
  if (reported > ceiling) return { answered: ceiling, clamped: true };
  return { answered: Math.max(0, Math.floor(reported)), clamped: false };
}
