import { afterEach, describe, expect, it } from 'vitest';
import type { PolicyOverrides } from '../../src/policy/schema.js';
import { normalizeNumber } from '../../src/numbers/normalize.js';
import type { AuditedDecision } from '../../src/store/roles/decisions.js';
import { tempGuard, type TempGuard } from '../support/temp-db.js';
import { attackNumber, call, minutes, newYork } from './fixture.js';

/**
 * Whole attacks and a whole working day at the guard level, with time travel: the store's clock
 * is each request's time. The windows themselves are in the store contract (test/store/contract/velocity.ts).
 */

const UNLIMITED_BUDGET = { dailySpend: null, monthlySpend: null, dailyMinutes: null, maxConcurrent: null };
/** Cheap everywhere, so that neither a budget nor the site circuit breaker gets in the way. */
const CHEAP_RATES = [{ prefix: '+', perMinute: 0.01, increment: 60 }];

let t: TempGuard;
afterEach(() => t?.close());

describe('the classic attack, at 3 a.m. on a Saturday from a German address', () => {
  // 40 numbers in 6 countries in 5 minutes, from an extension that calls two numbers at home a day.
  const ATTACK_START = newYork('2026-11-21T03:00:00');
  const attack = async (ext: string) => {
    const decisions: AuditedDecision[] = [];
    for (let i = 0; i < 40; i++) {
      const { number } = attackNumber(i);
      decisions.push(await t.guard.authorize(call(ext, number, new Date(ATTACK_START.getTime() + i * 7500), '80.128.0.1:5060')));
    }
    return decisions;
  };
  const history = async (ext: string) => {
    for (let day = 7; day >= 1; day--) {
      for (const [hour, number] of [[10, '12125550123'], [15, '13125550188']] as const) {
        const at = new Date(ATTACK_START.getTime() - day * 86_400_000 + (hour - 3) * 3_600_000);
        expect((await t.guard.authorize(call(ext, number, at))).result).toBe('ALLOW');
      }
    }
  };
  const WEEKDAYS: PolicyOverrides['schedule'] = { appliesTo: 'international', windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '08:00', to: '18:00' }] };

  it('uses six real countries', () => {
    for (let i = 0; i < 12; i++) {
      const { number, country } = attackNumber(i);
      expect(normalizeNumber(number, { homeCountry: 'US', accessPrefix: '' })).toMatchObject({ valid: true, country, type: 'FIXED_LINE' });
    }
  });

  it.each<{ site: string; overrides: PolicyOverrides; stoppedAt: number; before: string; counter: string }>([
    {
      site: 'secure defaults (home country only, home sources)',
      overrides: {},
      stoppedAt: 11,
      before: 'destination_country_denied',
      counter: 'deniedPerHour',
    },
    {
      site: 'office hours for international calls, destinations and sources open',
      overrides: { destinations: { allowCountries: ['*'] }, geofence: { allowCountries: ['*'] }, schedule: WEEKDAYS },
      stoppedAt: 11,
      before: 'outside_schedule',
      counter: 'deniedPerHour',
    },
    {
      site: 'destinations and sources open',
      overrides: { destinations: { allowCountries: ['*'] }, geofence: { allowCountries: ['*'] } },
      stoppedAt: 4,
      before: 'allowed',
      counter: 'newCountriesPerHour',
    },
    {
      site: 'destinations and sources open, novelty off',
      overrides: { destinations: { allowCountries: ['*'] }, geofence: { allowCountries: ['*'] }, velocity: { noveltyDays: null } },
      stoppedAt: 21,
      before: 'allowed',
      counter: 'internationalPerHour',
    },
  ])('on a site with $site it is stopped and locked at call $stoppedAt by $counter', async ({ overrides, stoppedAt, before, counter }) => {
    // One extension's attack, stopped by its own counters: no limit per source address (which would stop it at call 11).
    t = await tempGuard({ defaults: { budget: UNLIMITED_BUDGET, sources: { maxConcurrentPerSource: 0 } }, extensions: { '2001': overrides }, rates: CHEAP_RATES });
    await history('2001');
    const decisions = await attack('2001');
    const reasons = decisions.map((d) => d.reason);
    expect(reasons.slice(0, stoppedAt - 1)).toEqual(Array(stoppedAt - 1).fill(before));
    expect(reasons[stoppedAt - 1]).toBe('velocity_exceeded');
    expect(reasons.slice(stoppedAt)).toEqual(Array(40 - stoppedAt).fill('extension_locked'));

    const stopping = decisions[stoppedAt - 1];
    expect(await t.store.getLock('2001')).toMatchObject({ actor: 'dialguard', reason: expect.stringContaining(`(call ${stopping?.callId})`) });
    const alerts = await t.store.listAlerts({ ext: '2001' }, { limit: 50 });
    const breach = alerts.find((a) => a.kind === 'breach');
    expect(breach).toMatchObject({ counter: counter, severity: 'error', decisionId: stopping?.callId, details: { locked: true } });
    expect(breach?.details.numbers[0]).toBe(stopping?.e164);
    expect(alerts.find((a) => a.kind === 'lock')).toMatchObject({ decisionId: stopping?.callId, message: expect.stringMatching(/^Extension 2001 locked until an admin unlocks it: velocity: /) });
    // Emergency calls still go through.
    expect((await t.guard.authorize(call('2001', '911', new Date(ATTACK_START.getTime() + minutes(6)), '80.128.0.1:5060'))).reason).toBe('emergency');
  });

  it('after an admin unlocks it, the extension starts afresh: its next call is not locked again by the same counts', async () => {
    t = await tempGuard({ defaults: { budget: UNLIMITED_BUDGET }, extensions: { '2001': { destinations: { allowCountries: ['*'] }, geofence: { allowCountries: ['*'] } } }, rates: CHEAP_RATES });
    await attack('2001');
    expect(await t.store.unlock('2001', 'alice')).toBe(true);
    const next = await t.guard.authorize(call('2001', attackNumber(4).number, new Date(ATTACK_START.getTime() + minutes(6))));
    expect(next.reason).toBe('allowed');
    expect((await t.store.policyHistory(['lock:2001'], { limit: 5 })).map((c) => c.actor)).toEqual(['alice', 'dialguard']);
  });
});

describe('a busy call-centre line below its thresholds', () => {
  it('places a whole working day of calls, 7.5 a minute, without a breach or a lock', async () => {
    t = await tempGuard({
      defaults: { destinations: { allowCountries: ['US', 'CA'] }, budget: UNLIMITED_BUDGET },
      extensions: {
        agents: { velocity: { maxAttemptsPerMinute: 12, maxInternationalPerHour: 60, maxDistinctDestinationsPerHour: 600, maxDeniedPerHour: 30 } },
      },
      rates: CHEAP_RATES,
    });
    const start = newYork('2026-11-17T08:00:00').getTime();
    let allowed = 0;
    for (let i = 0; i < 9 * 450; i++) {
      // A new number each time, one in twenty to Canada, and a misdial every fifty calls.
      const number = i % 50 === 49 ? '12345' : i % 20 === 0 ? `1416555${String(i % 10_000).padStart(4, '0')}` : `1212${String(2000000 + i)}`;
      const d = await t.guard.authorize(call('agents', number, new Date(start + i * 8000)));
      expect(d.reason === 'allowed' || d.reason === 'number_invalid', `call ${i}: ${d.reason}`).toBe(true);
      if (d.result === 'ALLOW') {
        allowed++;
        await t.guard.settle({ callId: d.callId, answeredSeconds: 180, dialStatus: 'ANSWER', at: new Date(start + i * 8000 + 185_000) });
      }
    }
    expect(allowed).toBe(9 * 450 - 81);
    expect(await t.store.getLock('agents')).toBeNull();
    const alerts = await t.store.listAlerts({ ext: 'agents' }, { limit: 50 });
    expect(alerts.filter((a) => a.kind !== 'warn')).toEqual([]);
    // The only warning: its first call to Canada.
    expect(alerts.map((a) => a.counter)).toEqual(['newCountry']);
  });
});
