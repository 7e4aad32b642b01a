import type { Policy } from '../../policy/schema.js';
import { affordableSeconds, costMicros, fromMicros, toMicros, type RateTable } from '../../rates/rate-table.js';
import type { CheckOutcome, Grant, ReasonCode } from '../../domain/decision.js';
import { fail, pass, skip, type CheckContext } from './check.js';

export interface BudgetOutcome {
  outcome: CheckOutcome;
  grant: Grant | null;
}

export type BudgetCheck = (ctx: CheckContext) => BudgetOutcome;

interface Bound {
  seconds: number;
  reason: ReasonCode | null;
  label: string;
}

/**
 * Concurrency, spend and minutes, and the longest call the remaining budgets allow at the
 * destination's rate. The grant is what the store reserves, so a budget holds mid-call.
 */
export function compileBudget(budget: Policy['budget'], rates: RateTable): BudgetCheck {
  const daily = budget.dailySpend === null ? null : toMicros(budget.dailySpend);
  const monthly = budget.monthlySpend === null ? null : toMicros(budget.monthlySpend);
  const dailySeconds = budget.dailyMinutes === null ? null : Math.floor(budget.dailyMinutes * 60);
  const { currency } = budget;

  return (ctx) => {
    const { usage, number } = ctx;
    if (!number.e164) return { outcome: skip('budget', 'no destination to price'), grant: null };
    const denied = (reason: ReasonCode, detail: string): BudgetOutcome => ({ outcome: fail('budget', reason, detail), grant: null });

    if (budget.maxConcurrent !== null && usage.activeCalls >= budget.maxConcurrent) {
      return denied('budget_concurrency', `${usage.activeCalls} active calls, limit ${budget.maxConcurrent}`);
    }
    const rate = rates.rateFor(number.e164);
    const bounds: Bound[] = [{ seconds: budget.maxCallSeconds, reason: null, label: 'maxCallSeconds' }];
    if (daily !== null) {
      const left = daily - usage.spentTodayMicros;
      if (left <= 0) return denied('budget_daily_spend', `spent ${money(usage.spentTodayMicros, currency)} today of ${money(daily, currency)}`);
      bounds.push({ seconds: affordableSeconds(rate, left), reason: 'budget_daily_spend', label: `daily spend (${money(left, currency)} left)` });
    }
    if (monthly !== null) {
      const left = monthly - usage.spentMonthMicros;
      if (left <= 0) return denied('budget_monthly_spend', `spent ${money(usage.spentMonthMicros, currency)} this month of ${money(monthly, currency)}`);
      bounds.push({ seconds: affordableSeconds(rate, left), reason: 'budget_monthly_spend', label: `monthly spend (${money(left, currency)} left)` });
    }
    if (dailySeconds !== null) {
      const left = dailySeconds - usage.secondsToday;
      if (left <= 0) return denied('budget_daily_minutes', `used ${Math.ceil(usage.secondsToday / 60)} of ${budget.dailyMinutes} minutes today`);
      bounds.push({ seconds: left, reason: 'budget_daily_minutes', label: `daily minutes (${left} s left)` });
    }

    const binding = bounds.reduce((a, b) => (b.seconds < a.seconds ? b : a));
    const priced = `at ${rate.prefix} ${fromMicros(rate.perMinuteMicros)} ${currency}/min`;
    if (binding.seconds < budget.minCallSeconds) {
      // maxCallSeconds >= minCallSeconds is enforced by validation, so a money or minutes bound binds here.
      return denied(binding.reason ?? 'budget_daily_spend', `${binding.label} allows ${binding.seconds} s ${priced}, minimum ${budget.minCallSeconds} s`);
    }
    const seconds = binding.seconds;
    const grant: Grant = { seconds, costMicros: costMicros(rate, seconds), rate };
    return {
      outcome: pass('budget', `limit ${seconds} s by ${binding.label} ${priced}, reserving ${money(grant.costMicros, currency)}`),
      grant,
    };
  };
}

function money(micros: number, currency: string): string {
  return `${fromMicros(micros).toFixed(2)} ${currency}`;
}
