import { Type, type Static } from '@sinclair/typebox';
import { MAX_NOVELTY_DAYS, MAX_WINDOW_COUNT } from '../../bounds.js';
import type { FraudCounter, FraudFinding } from '../../domain/fraud.js';
import type { VelocityCounts } from '../../domain/usage.js';
import { WINDOW_MS } from '../../domain/windows.js';
import { defineCheck, fail, pass, skip, type AttemptFacts, type CheckContext, type FraudCheck, type PolicySection } from './check.js';

declare module '../../domain/decision.js' {
  interface CheckNames {
    velocity: true;
  }
  interface ReasonCodes {
    velocity_exceeded: true;
  }
}

const Count = (description: string) =>
  Type.Union([Type.Integer({ minimum: 1, maximum: MAX_WINDOW_COUNT }), Type.Null()], { description: `${description}, in any sliding window; null means no limit` });

export const VelocitySchema = Type.Object(
  {
    maxAttemptsPerMinute: Count('calls placed in 60 s'),
    maxInternationalPerHour: Count('international calls placed in an hour'),
    maxDistinctDestinationsPerHour: Count('distinct numbers called in an hour'),
    maxDeniedPerHour: Count('attempts denied by the policy (destination, schedule, source, voicemail, invalid number) in an hour'),
    maxNewCountriesPerHour: Count('countries called for the first time in noveltyDays, in an hour'),
    noveltyDays: Type.Union([Type.Integer({ minimum: 1, maximum: MAX_NOVELTY_DAYS }), Type.Null()], {
      description: 'a call to a country not called in this many days is flagged; null turns novelty off',
    }),
    warnRatio: Type.Union([Type.Number({ minimum: 0.01, maximum: 1 }), Type.Null()], {
      description: 'a counter reaching this fraction of its limit raises a warn alert; null: no warnings',
    }),
    lockOnBreach: Type.Boolean({ description: 'a breach also locks the extension until an admin unlocks it' }),
  },
  { additionalProperties: false },
);

export type Velocity = Static<typeof VelocitySchema>;

/**
 * Velocity limits that a person at a phone does not reach and a fraud run reaches within
 * minutes. They count calls placed and attempts the policy denied, not attempts a budget refused
 * (those cost nothing and probe nothing), so a burst of retries on a busy line never locks it. A
 * call-centre extension raises them in its own entry.
 */
const DEFAULT_VELOCITY: Velocity = {
  maxAttemptsPerMinute: 10,
  maxInternationalPerHour: 20,
  maxDistinctDestinationsPerHour: 30,
  maxDeniedPerHour: 10,
  maxNewCountriesPerHour: 3,
  noveltyDays: 30,
  warnRatio: 0.8,
  lockOnBreach: true,
};

/** The velocity limits, shared by the velocity and novelty checks. */
export const VELOCITY_SECTION: PolicySection<typeof VelocitySchema, 'velocity'> = {
  key: 'velocity',
  schema: VelocitySchema,
  defaults: () => ({ ...DEFAULT_VELOCITY }),
};

interface Counter {
  counter: FraudCounter;
  limit: number | null;
  windowMs: number;
  before: (counts: VelocityCounts) => number;
  /** Whether this attempt is one more in the counter. */
  adds: (counts: VelocityCounts, ctx: CheckContext, facts: AttemptFacts) => boolean;
  describe: (count: number) => string;
  short: string;
}

/** The count at which a counter warns: never below 1, never above its limit. */
export function warnThreshold(limit: number, warnRatio: number | null): number | null {
  return warnRatio === null ? null : Math.min(limit, Math.max(1, Math.ceil(limit * warnRatio)));
}

/**
 * Calls placed a minute, international calls an hour, distinct numbers an hour and attempts the
 * policy denied an hour, each over a sliding window read from the store. A counter breaches
 * when this attempt would be one more than its limit, so no window ever holds more than the
 * limit: counts are exact, not per fixed bucket, and survive a restart.
 */
export function compileVelocity(velocity: Velocity): FraudCheck {
  const all: Counter[] = [
    {
      counter: 'attemptsPerMinute',
      limit: velocity.maxAttemptsPerMinute,
      windowMs: WINDOW_MS.attemptsPerMinute,
      before: (c) => c.placedLastMinute,
      adds: (_c, _ctx, facts) => facts.wouldPlace,
      describe: (n) => `${n} calls placed in the last 60 s`,
      short: 'calls a minute',
    },
    {
      counter: 'internationalPerHour',
      limit: velocity.maxInternationalPerHour,
      windowMs: WINDOW_MS.internationalPerHour,
      before: (c) => c.internationalLastHour,
      adds: (_c, ctx, facts) => facts.wouldPlace && ctx.number.international,
      describe: (n) => `${n} international calls in the last hour`,
      short: 'international an hour',
    },
    {
      counter: 'distinctDestinationsPerHour',
      limit: velocity.maxDistinctDestinationsPerHour,
      windowMs: WINDOW_MS.distinctDestinationsPerHour,
      before: (c) => c.destinationsLastHour,
      adds: (c, _ctx, facts) => facts.wouldPlace && !c.destinationInLastHour,
      describe: (n) => `${n} distinct numbers called in the last hour`,
      short: 'numbers an hour',
    },
    {
      counter: 'deniedPerHour',
      limit: velocity.maxDeniedPerHour,
      windowMs: WINDOW_MS.deniedPerHour,
      before: (c) => c.deniedLastHour,
      adds: (_c, _ctx, facts) => facts.policyDenied,
      describe: (n) => `${n} attempts denied by the policy in the last hour`,
      short: 'denied an hour',
    },
  ];
  const counters = all.filter((c) => c.limit !== null);

  return (ctx, facts) => {
    const counts = ctx.usage.velocity;
    if (counters.length === 0) return { outcome: skip('velocity', 'no velocity limits'), findings: [], counts: {} };
    if (!counts) return { outcome: skip('velocity', 'not counted'), findings: [], counts: {} };
    const findings: FraudFinding[] = [];
    const now: Record<string, number> = {};
    const summary: string[] = [];
    for (const c of counters) {
      const limit = c.limit as number;
      const adds = c.adds(counts, ctx, facts);
      const count = c.before(counts) + (adds ? 1 : 0);
      now[c.counter] = count;
      summary.push(`${count}/${limit} ${c.short}`);
      // Only an attempt that is one more in a counter can breach it or warn about it.
      if (!adds) continue;
      const warnAt = warnThreshold(limit, velocity.warnRatio);
      if (count > limit) {
        findings.push({ check: 'velocity', counter: c.counter, level: 'breach', count, limit, windowMs: c.windowMs, detail: `${c.describe(count)}, limit ${limit}` });
      } else if (warnAt !== null && count >= warnAt) {
        const detail = `${c.describe(count)}, warning at ${warnAt}, limit ${limit}`;
        findings.push({ check: 'velocity', counter: c.counter, level: 'warn', count, limit, windowMs: c.windowMs, detail });
      }
    }
    const breaches = findings.filter((f) => f.level === 'breach');
    if (breaches.length > 0) {
      return { outcome: fail('velocity', 'velocity_exceeded', breaches.map((f) => f.detail).join('; ')), findings, counts: now };
    }
    const warnings = findings.map((f) => f.detail);
    const outcome = pass('velocity', warnings.length > 0 ? `warning: ${warnings.join('; ')}` : summary.join(', '));
    return { outcome: warnings.length > 0 ? { ...outcome, warn: true } : outcome, findings, counts: now };
  };
}

export const velocity = defineCheck({
  name: 'velocity',
  kind: 'fraud',
  reasons: { velocity_exceeded: 'too many calls in a short time' },
  section: VELOCITY_SECTION,
  storeReads: (limits) => ({
    caps: {
      placedPerMinute: limits.maxAttemptsPerMinute,
      internationalPerHour: limits.maxInternationalPerHour,
      destinationsPerHour: limits.maxDistinctDestinationsPerHour,
      deniedPerHour: limits.maxDeniedPerHour,
    },
  }),
  form: [
    { path: '/velocity/maxAttemptsPerMinute', label: 'Attempts a minute' },
    { path: '/velocity/maxInternationalPerHour', label: 'International calls an hour' },
    { path: '/velocity/maxDeniedPerHour', label: 'Denied calls an hour' },
  ],
  compile: ({ section }) => ({ evaluate: compileVelocity(section), locksOnBreach: section.lockOnBreach, thresholds: { ...section } }),
});
