import { describe, expect, it } from 'vitest';
import { call, minutes, newYork, seconds } from '../../fraud/fixture.js';
import { useContractGuards, type ContractGuard, type ContractSection } from './fixture.js';

/**
 * What the fraud checks found, as the store applies it in the decision's transaction: alert
 * rows (one per condition and window, counted), locks, and the site circuit breaker's sliding
 * hour of international spend.
 */

const UNLIMITED_BUDGET = { dailySpend: null, monthlySpend: null, dailyMinutes: null, maxConcurrent: null };
const ALERT_RATES = [{ prefix: '+', perMinute: 0.01, increment: 60 }];

/** London at 1.00 a minute and 10-minute calls: each call abroad reserves 10.00 against a site limit of 100.00 an hour. */
const SITE = {
  defaults: {
    destinations: { allowCountries: ['US', 'GB'] },
    budget: { dailySpend: null, monthlySpend: null, dailyMinutes: null, maxConcurrent: null, maxCallSeconds: 600 },
    // Ten extensions call London here to fill the breaker's hour: the spread of one number is tested in site-counters.ts.
    spread: { maxExtensionsPerDestination: 0 },
  },
  rates: [
    { prefix: '+', perMinute: 1, increment: 60 },
    { prefix: '+1', perMinute: 0.02, increment: 60 },
  ],
};
const LONDON = '011442079460000';
/** 10:00 on a Tuesday in New York: every test's clock starts here. */
const TEN = newYork('2026-11-17T10:00:00').getTime();

export const fraudEffectsContract: ContractSection = (factory) => {
  const open = useContractGuards(factory);
  let t: ContractGuard;

  const siteWithLimit = async (limit: number): Promise<ContractGuard> => {
    const g = await open(SITE);
    await g.store.setCircuitBreakerLimit(limit * 1e6, 'alice', new Date(TEN));
    return g;
  };

  /** Ten extensions, one call abroad each, a second apart from 10:00:00: 100.00 reserved. */
  const fillTheHour = async (): Promise<string[]> => {
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const d = await t.guard.authorize(call(`b${i}`, LONDON, new Date(TEN + seconds(i))));
      expect(d.result).toBe('ALLOW');
      ids.push(d.callId);
    }
    return ids;
  };

  describe('alert rows', () => {
    it('one warning per counter and window: the 8th, 9th and 10th denied attempts of an hour are one alert seen three times', async () => {
      t = await open({ defaults: { budget: UNLIMITED_BUDGET }, rates: ALERT_RATES });
      for (let i = 0; i < 10; i++) expect((await t.guard.authorize(call('1001', '18765551234', new Date(TEN + seconds(i))))).reason).toBe('destination_country_denied');
      const alerts = await t.store.listAlerts({}, { limit: 10 });
      expect(alerts).toHaveLength(1);
      expect(alerts[0]).toMatchObject({
        kind: 'warn',
        severity: 'warn',
        counter: 'deniedPerHour',
        occurrences: 3,
        at: TEN + seconds(7),
        lastAt: TEN + seconds(9),
        message: 'Extension 1001: 8 attempts denied by the policy in the last hour, warning at 8, limit 10',
        details: { count: 8, limit: 10, windowSeconds: 3600, locked: false },
      });
    });

    it('a throttled extension (no lock) raises one breach alert per window, however often it retries', async () => {
      t = await open({ defaults: { budget: UNLIMITED_BUDGET, velocity: { lockOnBreach: false, warnRatio: null } }, rates: ALERT_RATES });
      // A call a second for 40 s: ten through, thirty throttled.
      for (let i = 0; i < 40; i++) await t.guard.authorize(call('1001', '12125550123', new Date(TEN + seconds(i))));
      // Five minutes later, twelve within a few ms: ten through, two throttled.
      for (let i = 0; i < 12; i++) await t.guard.authorize(call('1001', '12125550123', new Date(TEN + minutes(5) + i)));
      const breaches = await t.store.listAlerts({ kind: 'breach' }, { limit: 10 });
      expect(breaches.map((a) => a.occurrences)).toEqual([2, 30]);
      expect(await t.store.getLock('1001')).toBeNull();
    });

    it('marks alerts of a shadow-mode extension as such, and locks nothing', async () => {
      t = await open({ defaults: { budget: UNLIMITED_BUDGET, mode: 'shadow', velocity: { warnRatio: null } }, rates: ALERT_RATES });
      for (let i = 0; i < 11; i++) expect((await t.guard.authorize(call('1001', '12125550123', new Date(TEN + seconds(i))))).result).toBe('ALLOW');
      expect(await t.store.listAlerts({}, { limit: 10 })).toMatchObject([
        { kind: 'breach', shadow: true, message: '[shadow mode, nothing enforced] Extension 1001: 11 calls placed in the last 60 s, limit 10', details: { locked: false } },
      ]);
      expect(await t.store.getLock('1001')).toBeNull();
    });
  });

  describe('the site circuit breaker on international spend', () => {
    it('starts with a limit of 500.00 an hour', async () => {
      t = await open(SITE);
      expect(await t.store.circuitBreaker(new Date(TEN))).toMatchObject({ open: false, limitMicros: 500_000_000, spentMicros: 0, openedBy: null });
    });

    it('opens on the call that would cross the limit, across extensions, and then stops international calls for everyone', async () => {
      t = await siteWithLimit(100);
      await fillTheHour();
      expect(await t.store.circuitBreaker(new Date(TEN + seconds(10)))).toMatchObject({ open: false, spentMicros: 100_000_000 });

      const crossing = await t.guard.authorize(call('b10', LONDON, new Date(TEN + seconds(10))));
      expect(crossing).toMatchObject({ result: 'DENY', reason: 'velocity_exceeded', grant: null });
      expect(await t.store.circuitBreaker(new Date(TEN + seconds(11)))).toMatchObject({
        open: true,
        openedAt: TEN + seconds(10),
        openedBy: { ext: 'b10', callId: crossing.callId },
        spentMicros: 100_000_000,
      });
      const [alert] = await t.store.listAlerts({ kind: 'circuit_breaker' }, { limit: 5 });
      expect(alert).toMatchObject({ severity: 'error', ext: 'b10', decisionId: crossing.callId, details: { count: 110, limit: 100, windowSeconds: 3600 } });
      // Nobody is locked: the breaker is the site's, not the extension's.
      expect(await t.store.getLock('b10')).toBeNull();

      const later = new Date(TEN + seconds(30));
      expect((await t.guard.authorize(call('someone-else', LONDON, later))).checks.find((c) => c.name === 'circuit_breaker')).toMatchObject({
        outcome: 'fail',
        reason: 'velocity_exceeded',
        detail: expect.stringMatching(/^the site circuit breaker is open since 2026-11-17T15:00:10.000Z/),
      });
      expect((await t.guard.authorize(call('someone-else', '12125550123', later))).reason).toBe('allowed');
      expect((await t.guard.authorize(call('someone-else', '911', later))).reason).toBe('emergency');
      // Still open an hour later: only an admin closes it.
      expect((await t.guard.authorize(call('b0', LONDON, new Date(TEN + 2 * 3_600_000)))).reason).toBe('velocity_exceeded');
    });

    it('closes when an admin resets it, counting spend afresh, and the reset is in the policy history', async () => {
      t = await siteWithLimit(100);
      await fillTheHour();
      await t.guard.authorize(call('b10', LONDON, new Date(TEN + seconds(10))));
      const reset = await t.store.resetCircuitBreaker('alice', new Date(TEN + seconds(20)));
      expect(reset).toMatchObject({ open: false, spentMicros: 0, resetAt: TEN + seconds(20), resetBy: 'alice' });
      expect((await t.guard.authorize(call('b10', LONDON, new Date(TEN + seconds(21))))).reason).toBe('allowed');
      expect((await t.store.policyHistory(['circuit-breaker'], { limit: 5 })).map((c) => c.actor)).toEqual(['alice', 'alice']);
    });

    it('counts a sliding hour: a call leaves the spend exactly an hour after it was placed', async () => {
      t = await siteWithLimit(100);
      await fillTheHour();
      // The 10:00:00.000 call leaves at 11:00:00.000 (a dry run a millisecond before: still full), making room for one call, not two.
      expect((await t.guard.check(call('c1', LONDON, new Date(TEN + 3_600_000 - 1)))).reason).toBe('velocity_exceeded');
      expect((await t.guard.authorize(call('c1', LONDON, new Date(TEN + 3_600_000)))).reason).toBe('allowed');
      expect((await t.guard.authorize(call('c2', LONDON, new Date(TEN + 3_600_000 + 500)))).reason).toBe('velocity_exceeded');
    });

    it('counts a settled call at its real cost', async () => {
      t = await siteWithLimit(100);
      const [first, second] = await fillTheHour();
      // Two calls of one minute: 1.00 each instead of 10.00.
      for (const callId of [first, second]) await t.guard.settle({ callId: callId as string, answeredSeconds: 60, dialStatus: 'ANSWER', at: new Date(TEN + seconds(70)) });
      expect((await t.store.circuitBreaker(new Date(TEN + seconds(80)))).spentMicros).toBe(82_000_000);
      expect((await t.guard.authorize(call('c1', LONDON, new Date(TEN + seconds(90))))).reason).toBe('allowed');
      expect((await t.guard.authorize(call('c2', LONDON, new Date(TEN + seconds(91))))).reason).toBe('velocity_exceeded');
    });

    it('has no limit when set to null', async () => {
      t = await siteWithLimit(100);
      await t.store.setCircuitBreakerLimit(null, 'alice', new Date(TEN));
      await fillTheHour();
      expect((await t.guard.authorize(call('b10', LONDON, new Date(TEN + seconds(10))))).reason).toBe('allowed');
    });
  });
};
