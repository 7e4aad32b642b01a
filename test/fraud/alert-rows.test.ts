import { afterEach, describe, expect, it } from 'vitest';
import { tempGuard, type TempGuard } from '../support/temp-db.js';
import { call, minutes, newYork, seconds } from './fixture.js';

/** Which alerts a run of decisions leaves in the alerts table. */

const UNLIMITED_BUDGET = { dailySpend: null, monthlySpend: null, dailyMinutes: null, maxConcurrent: null };
const RATES = [{ prefix: '+', perMinute: 0.01, increment: 60 }];
const START = newYork('2026-11-17T10:00:00').getTime();

let t: TempGuard;
afterEach(() => t?.close());

describe('alert rows', () => {
  it('one warning per counter and window: the 8th, 9th and 10th denied attempts of an hour are one alert seen three times', async () => {
    t = await tempGuard({ defaults: { budget: UNLIMITED_BUDGET }, rates: RATES });
    for (let i = 0; i < 10; i++) expect((await t.guard.authorize(call('1001', '18765551234', new Date(START + seconds(i))))).reason).toBe('destination_country_denied');
    const alerts = await t.store.listAlerts({}, { limit: 10 });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      kind: 'warn',
      severity: 'warn',
      counter: 'deniedPerHour',
      occurrences: 3,
      at: START + seconds(7),
      lastAt: START + seconds(9),
      message: 'Extension 1001: 8 attempts denied by the policy in the last hour, warning at 8, limit 10',
      details: { count: 8, limit: 10, windowSeconds: 3600, locked: false },
    });
  });

  it('a throttled extension (no lock) raises one breach alert per window, however often it retries', async () => {
    t = await tempGuard({ defaults: { budget: UNLIMITED_BUDGET, velocity: { lockOnBreach: false, warnRatio: null } }, rates: RATES });
    // A call a second for 40 s: ten through, thirty throttled.
    for (let i = 0; i < 40; i++) await t.guard.authorize(call('1001', '12125550123', new Date(START + seconds(i))));
    // Five minutes later, twelve within a few ms: ten through, two throttled.
    for (let i = 0; i < 12; i++) await t.guard.authorize(call('1001', '12125550123', new Date(START + minutes(5) + i)));
    const breaches = await t.store.listAlerts({ kind: 'breach' }, { limit: 10 });
    expect(breaches.map((a) => a.occurrences)).toEqual([2, 30]);
    expect(await t.store.getLock('1001')).toBeNull();
  });

  it('marks alerts of a shadow-mode extension as such, and locks nothing', async () => {
    t = await tempGuard({ defaults: { budget: UNLIMITED_BUDGET, mode: 'shadow', velocity: { warnRatio: null } }, rates: RATES });
    for (let i = 0; i < 11; i++) expect((await t.guard.authorize(call('1001', '12125550123', new Date(START + seconds(i))))).result).toBe('ALLOW');
    expect(await t.store.listAlerts({}, { limit: 10 })).toMatchObject([
      { kind: 'breach', shadow: true, message: '[shadow mode, nothing enforced] Extension 1001: 11 calls placed in the last 60 s, limit 10', details: { locked: false } },
    ]);
    expect(await t.store.getLock('1001')).toBeNull();
  });
});
