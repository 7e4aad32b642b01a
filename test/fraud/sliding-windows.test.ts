import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { openGeoIp } from '../../src/geo/geoip.js';
import { createGuard } from '../../src/guard/guard.js';
import type { PolicyDocument } from '../../src/policy/document.js';
import type { PolicyOverrides } from '../../src/policy/schema.js';
import { normalizeNumber } from '../../src/numbers/normalize.js';
import type { AuditedDecision } from '../../src/store/roles/decisions.js';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { tempGuard, type TempGuard } from '../support/temp-db.js';
import { attackNumber, busiestWindow, call, minutes, newYork, seconds } from './fixture.js';

/**
 * Time travel at the guard level: the store's clock is each request's time, so an attack can be
 * played across midnight and the top of the hour to the millisecond.
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

let t: TempGuard;
afterEach(() => t?.close());

describe('an attack straddling midnight and the top of the hour', () => {
  it('gets the tenth call of a minute at 23:59:59 and the next one exactly when the first leaves the window, not at 00:00:00', async () => {
    t = await tempGuard(site(THROTTLE_ONLY));
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
    t = await tempGuard(site(THROTTLE_ONLY));
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
    t = await tempGuard(site(THROTTLE_ONLY));
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
    t = await tempGuard(site(THROTTLE_ONLY));
    const base = newYork('2026-11-21T23:59:30');
    for (let i = 0; i < 10; i++) expect((await t.guard.authorize(call('1001', '12125550123', new Date(base.getTime() + i * 1000)))).result).toBe('ALLOW');
    await t.store.close();

    // A new process on the same database file.
    const store = createSqliteStore({ path: t.dbPath });
    const { dir } = t;
    t = { ...t, store, guard: createGuard({ store, homeCountry: 'US', timezone: 'America/New_York', geoip: openGeoIp() }), close: () => store.close().then(() => rmSync(dir, { recursive: true, force: true })) };
    expect((await t.guard.authorize(call('1001', '12125550123', newYork('2026-11-22T00:00:05')))).reason).toBe('velocity_exceeded');
    expect((await t.guard.authorize(call('1001', '12125550123', newYork('2026-11-22T00:00:30')))).reason).toBe('allowed');
  });
});

describe('distinct numbers and new countries', () => {
  it('counts a number called twice once, and lets the 31st distinct number of the hour through only after the first leaves', async () => {
    t = await tempGuard(site({ ...THROTTLE_ONLY, maxAttemptsPerMinute: null, maxInternationalPerHour: null, maxDistinctDestinationsPerHour: 30 }));
    const start = newYork('2026-11-17T10:00:00').getTime();
    const number = (i: number) => `1212555${String(1000 + i)}`;
    for (let i = 0; i < 30; i++) expect((await t.guard.authorize(call('1001', number(i), new Date(start + i * 1000)))).reason).toBe('allowed');
    expect((await t.guard.authorize(call('1001', number(0), new Date(start + seconds(40))))).reason).toBe('allowed');
    expect((await t.guard.authorize(call('1001', number(30), new Date(start + seconds(41))))).reason).toBe('velocity_exceeded');
    // number(0) was last called at +40 s, number(1) at +1 s: the hour after +1 s, there is room for one more.
    expect((await t.guard.authorize(call('1001', number(30), new Date(start + minutes(60) + seconds(1))))).reason).toBe('allowed');
  });

  it('flags a country as new only if it was not called in the last noveltyDays', async () => {
    t = await tempGuard(site({ ...THROTTLE_ONLY, noveltyDays: 30, maxNewCountriesPerHour: 3 }));
    const day = newYork('2026-10-01T10:00:00').getTime();
    await t.guard.authorize(call('1001', '011442079460000', new Date(day)));
    const novelty = async (at: number) => (await t.guard.authorize(call('1001', '011442079460001', new Date(at)))).checks.find((c) => c.name === 'novelty');
    expect(await novelty(day + 29 * 86_400_000)).toMatchObject({ outcome: 'pass', detail: 'GB was called in the last 30 days' });
    // The call on day 29 counts too: 31 days after it, GB is new again.
    expect(await novelty(day + 60 * 86_400_000 + 1)).toMatchObject({ outcome: 'pass', warn: true });
  });
});

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
    t = await tempGuard({ defaults: { budget: UNLIMITED_BUDGET }, extensions: { '2001': overrides }, rates: CHEAP_RATES });
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

describe('a dry run', () => {
  it('sees the counters but changes none of them', async () => {
    t = await tempGuard(site(THROTTLE_ONLY));
    const base = newYork('2026-11-17T10:00:00').getTime();
    for (let i = 0; i < 10; i++) await t.guard.authorize(call('1001', '12125550123', new Date(base + i)));
    expect((await t.guard.check(call('1001', '12125550123', new Date(base + 100)))).reason).toBe('velocity_exceeded');
    for (let i = 0; i < 5; i++) await t.guard.check(call('1001', '12125550123', new Date(base + minutes(2))));
    expect((await t.guard.authorize(call('1001', '12125550123', new Date(base + minutes(2))))).reason).toBe('allowed');
  });
});
