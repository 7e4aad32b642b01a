import { describe, expect, it } from 'vitest';
import { compileBudget } from '../../src/engine/checks/budget.js';
import type { CheckContext } from '../../src/engine/checks/check.js';
import { EMPTY_USAGE, type UsageSnapshot } from '../../src/domain/usage.js';
import type { Policy } from '../../src/policy/schema.js';
import { compileRates, toMicros } from '../../src/rates/rate-table.js';

const budget: Policy['budget'] = {
  currency: 'USD',
  dailySpend: 25,
  monthlySpend: 300,
  dailyMinutes: 600,
  maxConcurrent: 2,
  maxCallSeconds: 3600,
  minCallSeconds: 30,
};
const rates = compileRates([
  { prefix: '+', perMinute: 1, increment: 60 },
  { prefix: '+1', perMinute: 0.01, increment: 60 },
  { prefix: '+44', perMinute: 0.5, increment: 60 },
]);

function ctx(e164: string, usage: Partial<UsageSnapshot> = {}): CheckContext {
  return {
    request: { extension: '1001', dialled: e164, source: '', origin: 'phone', at: new Date(), transport: 'cli' },
    number: { digits: e164, e164, country: null, type: 'FIXED_LINE', valid: true, international: false },
    source: { ip: null, country: null },
    extension: { known: true, locked: false, lockReason: null },
    usage: { ...EMPTY_USAGE, ...usage },
    homeCountry: 'US',
    standing: null,
  };
}

describe('budget check', () => {
  const check = compileBudget(budget, rates);

  it('grants maxCallSeconds on a cheap domestic call and reserves its cost', () => {
    const { outcome, grant } = check(ctx('+12125550123'));
    expect(outcome.outcome).toBe('pass');
    expect(grant?.seconds).toBe(3600);
    expect(grant?.costMicros).toBe(toMicros(0.6));
  });

  it('limits a call to the UK to what is left of the daily spend', () => {
    // 25 - 24 = 1 USD left at 0.50/min: two minutes.
    const { grant } = check(ctx('+442079460000', { spentTodayMicros: toMicros(24) }));
    expect(grant?.seconds).toBe(120);
    expect(grant?.costMicros).toBe(toMicros(1));
  });

  it('limits to what is left of the monthly spend when that binds first', () => {
    const { grant, outcome } = check(ctx('+442079460000', { spentMonthMicros: toMicros(299) }));
    expect(grant?.seconds).toBe(120);
    expect(outcome.detail).toContain('monthly');
  });

  it('limits to the daily minutes left', () => {
    const { grant } = check(ctx('+12125550123', { secondsToday: 600 * 60 - 300 }));
    expect(grant?.seconds).toBe(300);
  });

  it('denies a third concurrent call with budget_concurrency', () => {
    expect(check(ctx('+12125550123', { activeCalls: 2 })).outcome.reason).toBe('budget_concurrency');
  });

  it('denies with budget_daily_spend when the day is spent', () => {
    expect(check(ctx('+12125550123', { spentTodayMicros: toMicros(25) })).outcome.reason).toBe('budget_daily_spend');
  });

  it('denies with budget_monthly_spend when the month is spent', () => {
    expect(check(ctx('+12125550123', { spentMonthMicros: toMicros(300) })).outcome.reason).toBe('budget_monthly_spend');
  });

  it('denies with budget_daily_minutes when the minutes are used', () => {
    expect(check(ctx('+12125550123', { secondsToday: 36_000 })).outcome.reason).toBe('budget_daily_minutes');
  });

  it('denies when the budget left allows less than the minimum call', () => {
    // 0.20 USD left at 1.00/min billed per minute: not even one minute.
    const { outcome, grant } = check(ctx('+5355512345', { spentTodayMicros: toMicros(24.8) }));
    expect(outcome.reason).toBe('budget_daily_spend');
    expect(grant).toBeNull();
  });

  it('treats null budgets as unlimited', () => {
    const open = compileBudget({ ...budget, dailySpend: null, monthlySpend: null, dailyMinutes: null, maxConcurrent: null }, rates);
    const { grant } = open(ctx('+5355512345', { activeCalls: 500, spentTodayMicros: toMicros(1e6) }));
    expect(grant?.seconds).toBe(3600);
  });
});
