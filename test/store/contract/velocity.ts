import { describe, expect, it } from 'vitest';
import type { PolicyDocument } from '../../../src/policy/document.js';
import { busiestWindow, call, minutes, newYork, seconds } from '../../fraud/fixture.js';
import { guardOn, useContractGuards, type ContractGuard, type ContractSection } from './fixture.js';

/**
 * The sliding windows of the velocity counters, as the store counts them: the store's clock is
 * each request's time, so an attack can be played across midnight and the top of the hour to
 * the millisecond.
 */

const UNLIMITED_BUDGET = { dailySpend: null, monthlySpend: null, dailyMinutes: null, maxConcurrent: null };
/** Cheap everywhere, so that neither a budget nor the site circuit breaker gets in the way. */
const CHEAP_RATES = [{ prefix: '+', perMinute: 0.01, increment: 60 }];

function site(velocity: Record<string, unknown>): PolicyDocument {
  return {
    defaults: {
      destinations: { allowCountries: ['*'] },
      geofence: { allowCountries: ['*'] },
      budget: UNLIMITED_BUDGET,
      velocity,
    },
    rates: CHEAP_RATES,
  };
}

// Only the counter under test, throttling rather than locking, so that a long attack shows every window.
const THROTTLE_ONLY = {
  maxAttemptsPerMinute: 10,
  maxInternationalPerHour: 20,
  maxDistinctDestinationsPerHour: null,
  maxDeniedPerHour: null,
  maxNewCountriesPerHour: null,
  lockOnBreach: false,
};

export const velocityContract: ContractSection = (factory) => {
  const open = useContractGuards(factory);
  let t: ContractGuard;

  describe('an attack straddling midnight and the top of the hour', () => {
    it('gets the tenth call of a minute at 23:59:59 and the next one exactly when the first leaves the window, not at 00:00:00', async () => {
      t = await open(site(THROTTLE_ONLY));
      const at = async (local: string) => (await t.guard.authorize(call('1001', '12125550123', newYork(local)))).reason;
      for (let s = 50; s <= 59; s++) expect(await at(`2026-11-21T23:59:${s}.000`)).toBe('allowed');
      // A fixed per-minute (or per-hour, per-day) bucket would reset here and let ten more through.
      expect(await at('2026-11-22T00:00:00.000')).toBe('velocity_exceeded');
      expect(await at('2026-11-22T00:00:30.000')).toBe('velocity_exceeded');
      expect(await at('2026-11-22T00:00:49.999')).toBe('velocity_exceeded');
      // The window is (t - 60 s, t]: the 23:59:50.000 call has just left it.
      expect(await at('2026-11-22T00:00:50.000')).toBe('allowed');
      expect(await at('2026-11-22T00:00:50.500')).toBe('velocity_exceeded');
      expect(await at('2026-11-22T00:00:51.000')).toBe('allowed');
      expect(await t.store.getLock('1001')).toBeNull();
    });

    it('never has more than 10 calls in any 60 s while a call comes every 1.5 s from 23:58 to 00:03', async () => {
      t = await open(site(THROTTLE_ONLY));
      const start = newYork('2026-11-21T23:58:00').getTime();
      const allowed: number[] = [];
      for (let at = start; at < start + minutes(5); at += 1500) {
        const d = await t.guard.authorize(call('1001', '12125550123', new Date(at)));
        if (d.result === 'ALLOW') allowed.push(at);
      }
      expect(busiestWindow(allowed, minutes(1))).toBe(10);
      expect(allowed).toHaveLength(50);
    });

    it('lets 20 international calls through in the hour from 23:30, none more until 00:30:00.000, then 20 again', async () => {
      t = await open(site(THROTTLE_ONLY));
      const start = newYork('2026-11-21T23:30:00').getTime();
      const allowed: number[] = [];
      // Two calls a minute to London for an hour and a quarter: below the minute limit, far over the hour limit.
      for (let at = start; at < start + minutes(75); at += seconds(30)) {
        const d = await t.guard.authorize(call('1001', '011442079460000', new Date(at)));
        expect(['allowed', 'velocity_exceeded']).toContain(d.reason);
        if (d.result === 'ALLOW') allowed.push(at);
      }
      expect(busiestWindow(allowed, minutes(60))).toBe(20);
      expect(allowed.slice(0, 20)).toEqual(Array.from({ length: 20 }, (_, i) => start + i * seconds(30)));
      // Midnight (also the top of the hour, also a new budget day) lets nothing extra through.
      expect(allowed[20]).toBe(start + minutes(60));
      expect(allowed).toHaveLength(40);
    });

    it('counts from the store: a restart in the middle of a burst does not reset the window', async () => {
      t = await open(site(THROTTLE_ONLY));
      const base = newYork('2026-11-21T23:59:30');
      for (let i = 0; i < 10; i++) expect((await t.guard.authorize(call('1001', '12125550123', new Date(base.getTime() + i * 1000)))).result).toBe('ALLOW');
      await t.closeStore();

      // A new process on the same database.
      const guard = guardOn(await t.another());
      expect((await guard.authorize(call('1001', '12125550123', newYork('2026-11-22T00:00:05')))).reason).toBe('velocity_exceeded');
      expect((await guard.authorize(call('1001', '12125550123', newYork('2026-11-22T00:00:30')))).reason).toBe('allowed');
    });
  });

  describe('distinct numbers and new countries', () => {
    it('counts a number called twice once, and lets the 31st distinct number of the hour through only after the first leaves', async () => {
      t = await open(site({ ...THROTTLE_ONLY, maxAttemptsPerMinute: null, maxInternationalPerHour: null, maxDistinctDestinationsPerHour: 30 }));
      const start = newYork('2026-11-17T10:00:00').getTime();
      const number = (i: number) => `1212555${String(1000 + i)}`;
      for (let i = 0; i < 30; i++) expect((await t.guard.authorize(call('1001', number(i), new Date(start + i * 1000)))).reason).toBe('allowed');
      expect((await t.guard.authorize(call('1001', number(0), new Date(start + seconds(40))))).reason).toBe('allowed');
      expect((await t.guard.authorize(call('1001', number(30), new Date(start + seconds(41))))).reason).toBe('velocity_exceeded');
      // number(0) was last called at +40 s, number(1) at +1 s: the hour after +1 s, there is room for one more.
      expect((await t.guard.authorize(call('1001', number(30), new Date(start + minutes(60) + seconds(1))))).reason).toBe('allowed');
    });

    it('flags a country as new only if it was not called in the last noveltyDays', async () => {
      t = await open(site({ ...THROTTLE_ONLY, noveltyDays: 30, maxNewCountriesPerHour: 3 }));
      const day = newYork('2026-10-01T10:00:00').getTime();
      await t.guard.authorize(call('1001', '011442079460000', new Date(day)));
      const novelty = async (at: number) => (await t.guard.authorize(call('1001', '011442079460001', new Date(at)))).checks.find((c) => c.name === 'novelty');
      expect(await novelty(day + 29 * 86_400_000)).toMatchObject({ outcome: 'pass', detail: 'GB was called in the last 30 days' });
      // The call on day 29 counts too: 31 days after it, GB is new again.
      expect(await novelty(day + 60 * 86_400_000 + 1)).toMatchObject({ outcome: 'pass', warn: true });
    });
  });

  describe('a dry run', () => {
    it('sees the counters but changes none of them', async () => {
      t = await open(site(THROTTLE_ONLY));
      const base = newYork('2026-11-17T10:00:00').getTime();
      for (let i = 0; i < 10; i++) await t.guard.authorize(call('1001', '12125550123', new Date(base + i)));
      expect((await t.guard.check(call('1001', '12125550123', new Date(base + 100)))).reason).toBe('velocity_exceeded');
      for (let i = 0; i < 5; i++) await t.guard.check(call('1001', '12125550123', new Date(base + minutes(2))));
      expect((await t.guard.authorize(call('1001', '12125550123', new Date(base + minutes(2))))).reason).toBe('allowed');
    });
  });
};
