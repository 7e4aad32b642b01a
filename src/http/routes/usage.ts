import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Guard } from '../../guard/guard.js';
import { periodsAt } from '../../store/periods.js';
import type { ReservationRecord, UsageStore } from '../../store/roles/usage.js';
import { ERROR_RESPONSES } from '../errors.js';
import { ExtParams, IsoTime, Money, Nullable, iso, money } from '../schemas.js';

const ActiveCallSchema = Type.Object({
  callId: Type.String(),
  ext: Type.String(),
  e164: Type.String(),
  startedAt: IsoTime,
  expiresAt: IsoTime,
  limitSeconds: Type.Integer({ description: 'the longest the call may last (DIALGUARD_LIMIT_MS / 1000)' }),
  reservedCost: Money,
});

const activeCallView = (r: ReservationRecord) => ({
  callId: r.callId,
  ext: r.ext,
  e164: r.e164,
  startedAt: iso(r.createdAt),
  expiresAt: iso(r.expiresAt),
  limitSeconds: r.reservedSeconds,
  reservedCost: money(r.reservedMicros),
});

const Limit = (description: string) => Nullable(Type.Number({ description: `${description}; null: no limit` }));

const UsageSchema = Type.Object({
  ext: Type.String(),
  currency: Type.String(),
  timezone: Type.String({ description: 'the budget day and month are calendar days in this zone' }),
  today: Type.Object({
    date: Type.String(),
    spend: Money,
    spendLimit: Limit('daily spend budget'),
    minutes: Type.Number({ description: 'answered minutes plus the limits of calls in progress' }),
    minutesLimit: Limit('daily minutes budget'),
  }),
  month: Type.Object({ month: Type.String(), spend: Money, spendLimit: Limit('monthly spend budget') }),
  activeCalls: Type.Object({ count: Type.Integer(), limit: Limit('calls at once'), calls: Type.Array(ActiveCallSchema) }),
});

/** Spend against the budgets. Spend counts settled calls at their real cost and calls in progress at their reservation. */
export const usageRoutes: FastifyPluginAsyncTypebox<{ guard: Pick<Guard, 'effectivePolicy'>; usage: Pick<UsageStore, 'usage' | 'activeReservations'> }> = async (
  app,
  { guard, usage: usageStore },
) => {
  app.get(
    '/usage/:ext',
    {
      schema: {
        summary: 'Today’s and this month’s spend and minutes against the budgets, and the calls in progress with their limits',
        tags: ['usage'],
        params: ExtParams,
        response: { 200: UsageSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const { ext } = request.params;
      const now = new Date();
      const { budget, schedule } = await guard.effectivePolicy(ext);
      const periods = periodsAt(now, schedule.timezone);
      const [usage, calls] = await Promise.all([usageStore.usage(ext, now, schedule.timezone), usageStore.activeReservations(now, ext)]);
      return {
        ext,
        currency: budget.currency,
        timezone: schedule.timezone,
        today: {
          date: periods.day,
          spend: money(usage.spentTodayMicros),
          spendLimit: budget.dailySpend,
          minutes: usage.secondsToday / 60,
          minutesLimit: budget.dailyMinutes,
        },
        month: { month: periods.month, spend: money(usage.spentMonthMicros), spendLimit: budget.monthlySpend },
        activeCalls: { count: calls.length, limit: budget.maxConcurrent, calls: calls.map(activeCallView) },
      };
    },
  );

  app.get(
    '/calls/active',
    {
      schema: {
        summary: 'Every call in progress (holding a reservation), oldest first',
        tags: ['usage'],
        response: { 200: Type.Object({ items: Type.Array(ActiveCallSchema) }), ...ERROR_RESPONSES },
      },
    },
    async () => ({ items: (await usageStore.activeReservations(new Date())).map(activeCallView) }),
  );
};
