import type { Policy } from '../../policy/schema.js';
import type { CheckOutcome } from '../../domain/decision.js';
import type { FraudCounter, FraudFinding } from '../../domain/fraud.js';
import type { VelocityCounts } from '../../domain/usage.js';
import { WINDOW_MS } from '../../domain/windows.js';
import { fail, pass, skip, type CheckContext } from './check.js';

/** What the engine knows of the attempt when the fraud checks run: they count only what it changes. */
export interface AttemptFacts {
  /** Every other check lets the call through: it would be one more call placed. */
  wouldPlace: boolean;
  /** A policy check (number, destination, voicemail, schedule, geofence) denies it. */
  policyDenied: boolean;
}

export interface FraudCheckResult {
  outcome: CheckOutcome;
  findings: FraudFinding[];
  /** Each counter with this attempt's effect, by counter name. */
  counts: Record<string, number>;
}

export type VelocityCheck = (ctx: CheckContext, facts: AttemptFacts) => FraudCheckResult;

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
export function compileVelocity(velocity: Policy['velocity']): VelocityCheck {
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
