import { Type, type Static } from '@sinclair/typebox';
import { MAX_AMOUNT, MAX_CALL_SECONDS, MAX_CONCURRENT_CALLS, MAX_DAILY_MINUTES } from '../../bounds.js';
import { affordableSeconds, costMicros, fromMicros, toMicros, type RateTable } from '../../rates/rate-table.js';
import type { Grant, ReasonCode } from '../../domain/decision.js';
import type { FieldProblem } from '../../errors.js';
import { asObject, currencyProblem, pointer, stringProblem } from '../../policy/fields.js';
import { Limit } from '../../policy/section-types.js';
import { defineCheck, fail, pass, skip, type BudgetCheck, type BudgetOutcome, type PolicySection } from './check.js';

declare module '../../domain/decision.js' {
  interface CheckNames {
    budget: true;
  }
  interface ReasonCodes {
    budget_concurrency: true;
    budget_daily_spend: true;
    budget_monthly_spend: true;
    budget_daily_minutes: true;
  }
}

export const BudgetSchema = Type.Object(
  {
    currency: Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 code of the budgets and of the rate table ("USD")' }),
    dailySpend: Limit(MAX_AMOUNT, 'spend per day'),
    monthlySpend: Limit(MAX_AMOUNT, 'spend per calendar month'),
    dailyMinutes: Limit(MAX_DAILY_MINUTES, 'call minutes per day'),
    maxConcurrent: Type.Union([Type.Integer({ minimum: 0, maximum: MAX_CONCURRENT_CALLS }), Type.Null()], { description: 'simultaneous calls; null means no limit' }),
    maxCallSeconds: Type.Integer({ minimum: 1, maximum: MAX_CALL_SECONDS, description: 'longest single call' }),
    minCallSeconds: Type.Integer({ minimum: 1, maximum: MAX_CALL_SECONDS, description: 'a call whose budget allows less than this is denied' }),
  },
  { additionalProperties: false },
);

type Budget = Static<typeof BudgetSchema>;

interface Bound {
  seconds: number;
  reason: ReasonCode | null;
  label: string;
}

/**
 * Concurrency, spend and minutes, and the longest call the remaining budgets allow at the
 * destination's rate. The grant is what the store reserves, so a budget holds mid-call.
 */
export function compileBudget(budget: Budget, rates: RateTable): BudgetCheck {
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

/**
 * The home currency only where its unit is within about a factor two of the dollar: the
 * default amounts (25 a day, 300 a month) stay sensible. Elsewhere (25 JPY or 25 INR would deny
 * nearly every call) they stay dollars until an admin sets a currency that matches the rates.
 */
const CURRENCY_BY_COUNTRY: Readonly<Record<string, string>> = {
  US: 'USD',
  CA: 'CAD',
  GB: 'GBP',
  CH: 'CHF',
  AU: 'AUD',
  NZ: 'NZD',
  ...Object.fromEntries(
    ['AT', 'BE', 'CY', 'DE', 'EE', 'ES', 'FI', 'FR', 'GR', 'HR', 'IE', 'IT', 'LT', 'LU', 'LV', 'MT', 'NL', 'PT', 'SI', 'SK'].map(
      (country) => [country, 'EUR'],
    ),
  ),
};

const LIMITS = ['dailySpend', 'monthlySpend', 'dailyMinutes', 'maxConcurrent'] as const;

function budgetProblems(value: unknown, path: string): FieldProblem[] {
  const budget = asObject(value);
  if (!budget) return [];
  const problems = stringProblem(budget.currency, pointer(path, 'currency'), currencyProblem);
  for (const key of LIMITS) {
    const limit = budget[key];
    if (typeof limit === 'number' && limit < 0) {
      problems.push({ field: pointer(path, key), message: `must not be negative, got ${limit} (null means no limit)` });
    }
  }
  const { minCallSeconds: min, maxCallSeconds: max } = budget;
  if (typeof min === 'number' && typeof max === 'number' && min > max) {
    problems.push({
      field: pointer(path, 'minCallSeconds'),
      message: `minCallSeconds (${min}) is more than maxCallSeconds (${max}): every call would be denied`,
    });
  }
  return problems;
}

export const BUDGET_SECTION: PolicySection<typeof BudgetSchema, 'budget'> = {
  key: 'budget',
  schema: BudgetSchema,
  /** 25 a day, 300 a month, 600 minutes a day, two calls at once, one hour per call; a call that could not last 30 s is refused. */
  defaults: (site) => ({
    currency: CURRENCY_BY_COUNTRY[site.homeCountry] ?? 'USD',
    dailySpend: 25,
    monthlySpend: 300,
    dailyMinutes: 600,
    maxConcurrent: 2,
    maxCallSeconds: 3600,
    minCallSeconds: 30,
  }),
  problems: budgetProblems,
};

export const budget = defineCheck({
  name: 'budget',
  kind: 'price',
  reasons: {
    budget_concurrency: 'too many calls at once',
    budget_daily_spend: 'the daily spend budget is used up',
    budget_monthly_spend: 'the monthly spend budget is used up',
    budget_daily_minutes: 'the daily minutes are used up',
  },
  section: BUDGET_SECTION,
  form: [
    { path: '/budget/dailySpend', label: 'Daily spend limit' },
    { path: '/budget/monthlySpend', label: 'Monthly spend limit' },
    { path: '/budget/dailyMinutes', label: 'Daily minutes' },
    { path: '/budget/maxConcurrent', label: 'Concurrent calls' },
  ],
  compile: ({ section, env }) => compileBudget(section, env.rates),
});
