import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { DecisionRequest } from '../../src/engine/types.js';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { tempGuard, type TempGuard } from '../support/temp-db.js';

const call = (dialled: string, at = new Date('2026-11-17T15:00:00Z'), extension = '1001'): DecisionRequest => ({
  extension,
  dialled,
  source: '10.0.0.5:5060',
  origin: 'phone',
  at,
  transport: 'agi',
  meta: { channel: 'PJSIP/1001-00000001' },
});

// 0.50 a minute to the UK against 10.00 a day: one call may reserve everything.
const UK_BUDGET = {
  defaults: {
    destinations: { allowCountries: ['US', 'GB'] },
    budget: { dailySpend: 10, monthlySpend: 100, dailyMinutes: null, maxConcurrent: 3, maxCallSeconds: 3600 },
  },
  rates: [
    { prefix: '+', perMinute: 1, increment: 60 },
    { prefix: '+44', perMinute: 0.5, increment: 60 },
  ],
};

describe('reservations and settlement', () => {
  let t: TempGuard;
  afterEach(() => t.close());

  it('reserves the limit granted, and settlement gives back what the call did not use', () => {
    t = tempGuard(UK_BUDGET);
    const first = t.guard.authorize(call('011442079460000'));
    expect(first.result).toBe('ALLOW');
    expect(first.limitMs).toBe(20 * 60_000); // 10.00 / 0.50 a minute
    // Budget fully reserved: a second call cannot start.
    expect(t.guard.authorize(call('011442079460000'))).toMatchObject({ result: 'DENY', reason: 'budget_daily_spend' });

    // The first call lasted 2 min 5 s: billed 3 minutes, 1.50.
    const settled = t.guard.settle({ callId: first.callId, answeredSeconds: 125, dialStatus: 'ANSWER', at: new Date() });
    expect(settled).toMatchObject({ outcome: 'settled', costMicros: 1_500_000, ext: '1001' });

    const next = t.guard.authorize(call('011442079460000'));
    expect(next.result).toBe('ALLOW');
    expect(next.limitMs).toBe(17 * 60_000); // 8.50 left
  });

  it('an unanswered call costs nothing and frees its slot', () => {
    t = tempGuard(UK_BUDGET);
    const d = t.guard.authorize(call('011442079460000'));
    expect(t.guard.settle({ callId: d.callId, answeredSeconds: 0, dialStatus: 'BUSY', at: new Date() }).costMicros).toBe(0);
    expect(t.store.usage('1001', new Date('2026-11-17T15:00:00Z'), 'America/New_York')).toEqual({
      activeCalls: 0,
      spentTodayMicros: 0,
      spentMonthMicros: 0,
      secondsToday: 0,
    });
  });

  it('a repeated or unknown settlement is harmless and recorded', () => {
    t = tempGuard(UK_BUDGET);
    const d = t.guard.authorize(call('011442079460000'));
    t.guard.settle({ callId: d.callId, answeredSeconds: 60, dialStatus: 'ANSWER', at: new Date() });
    expect(t.guard.settle({ callId: d.callId, answeredSeconds: 60, dialStatus: 'ANSWER', at: new Date() }).outcome).toBe('duplicate');
    expect(t.guard.settle({ callId: 'nope', answeredSeconds: 60, dialStatus: 'ANSWER', at: new Date() }).outcome).toBe('unknown');
    expect(t.store.usage('1001', new Date('2026-11-17T15:00:00Z'), 'America/New_York').spentTodayMicros).toBe(500_000);
    const db = new Database(t.dbPath, { readonly: true });
    expect(db.prepare('SELECT outcome FROM settlements ORDER BY id').pluck().all()).toEqual(['settled', 'duplicate', 'unknown']);
    db.close();
  });

  it('a reservation never settled expires after its limit plus grace: slot freed, cost kept', () => {
    let now = Date.parse('2026-11-17T15:00:00Z');
    t = tempGuard({ defaults: { budget: { maxConcurrent: 1, maxCallSeconds: 600 } } }, { reservationGraceSeconds: 60 });
    const first = t.guard.authorize(call('12125550123', new Date(now)));
    expect(first.result).toBe('ALLOW');
    expect(t.guard.authorize(call('12125550123', new Date(now)))).toMatchObject({ reason: 'budget_concurrency' });

    now += 659_000; // not yet: 600 s limit + 60 s grace
    expect(t.guard.authorize(call('12125550123', new Date(now)))).toMatchObject({ reason: 'budget_concurrency' });
    now += 1_000;
    expect(t.guard.authorize(call('12125550123', new Date(now))).result).toBe('ALLOW');
    expect(t.store.getReservation(first.callId)).toMatchObject({ status: 'expired', reservedMicros: 200_000 });
    // The expired call's cost stays charged (the safe side): two reservations of 10 min at 0.02.
    expect(t.store.usage('1001', new Date(now), 'America/New_York').spentTodayMicros).toBe(400_000);
  });

  it('a dry run, the usage read and the real decision see the same expiry of a reservation never settled', () => {
    const at = Date.parse('2026-11-17T15:00:00Z');
    t = tempGuard({ defaults: { budget: { maxConcurrent: 1 } } });
    expect(t.guard.authorize(call('12125550123', new Date(at))).result).toBe('ALLOW'); // never settled
    const agree = (when: Date) => ({
      check: t.guard.check(call('12125550124', when)).reason,
      activeCalls: t.store.usage('1001', when, 'America/New_York').activeCalls,
      activeReservations: t.store.activeReservations(when, '1001').length,
    });
    // Still holding its slot (3600 s + 300 s grace): everyone says so.
    expect(agree(new Date(at + 3899_000))).toEqual({ check: 'budget_concurrency', activeCalls: 1, activeReservations: 1 });
    // Two hours later it has expired, though no write has marked it yet: everyone says so too.
    const later = new Date(at + 2 * 3600_000);
    expect(agree(later)).toEqual({ check: 'allowed', activeCalls: 0, activeReservations: 0 });
    expect(t.guard.authorize(call('12125550124', later)).result).toBe('ALLOW');
    expect(agree(later)).toEqual({ check: 'budget_concurrency', activeCalls: 1, activeReservations: 1 });
  });

  it('budgets are per day in the policy timezone: 23:30 and 00:30 New York time are different days', () => {
    t = tempGuard({ defaults: { budget: { dailySpend: 1, maxCallSeconds: 3000 } } });
    // 50 minutes at 0.02 = 1.00: the whole day.
    expect(t.guard.authorize(call('12125550123', new Date('2026-11-18T04:30:00Z'))).result).toBe('ALLOW'); // 23:30 on the 17th
    expect(t.guard.authorize(call('12125550123', new Date('2026-11-18T04:40:00Z')))).toMatchObject({ reason: 'budget_daily_spend' });
    expect(t.guard.authorize(call('12125550123', new Date('2026-11-18T05:30:00Z'))).result).toBe('ALLOW'); // 00:30 on the 18th
  });
});

describe('the audit', () => {
  let t: TempGuard;
  afterEach(() => t.close());

  it('stores every decision, ALLOW and DENY, with inputs, checks, limit, policy version and latency', () => {
    t = tempGuard(UK_BUDGET);
    const allowed = t.guard.authorize(call('011442079460000'));
    const denied = t.guard.authorize(call('0115352123456'));
    const a = t.store.getDecision(allowed.callId);
    expect(a).toMatchObject({
      result: 'ALLOW',
      reason: 'allowed',
      transport: 'agi',
      extension: '1001',
      dialled: '011442079460000',
      e164: '+442079460000',
      country: 'GB',
      numberType: 'FIXED_LINE',
      sourceAddress: '10.0.0.5:5060',
      source: { ip: '10.0.0.5', country: null },
      origin: 'phone',
      limitMs: allowed.limitMs,
      reservedMicros: 10_000_000,
      policyVersion: t.store.policyVersion(),
      meta: { channel: 'PJSIP/1001-00000001' },
    });
    expect(a?.checks).toHaveLength(11);
    expect(a?.latencyUs).toBeGreaterThan(0);
    expect(t.store.getDecision(denied.callId)).toMatchObject({ result: 'DENY', reason: 'destination_country_denied', reservedMicros: null });
  });

  it('a dry run reserves and records nothing', () => {
    t = tempGuard(UK_BUDGET);
    expect(t.guard.check(call('011442079460000')).result).toBe('ALLOW');
    const db = new Database(t.dbPath, { readonly: true });
    expect(db.prepare('SELECT (SELECT COUNT(*) FROM decisions) + (SELECT COUNT(*) FROM reservations)').pluck().get()).toBe(0);
    db.close();
  });
});

describe('policy versions and locks', () => {
  let t: TempGuard;
  afterEach(() => t.close());

  it('a new policy applies to the next call, and the decision names the version it used', () => {
    t = tempGuard();
    const before = t.guard.authorize(call('011442079460000'));
    expect(before.reason).toBe('destination_country_denied');
    t.store.importDocument({ extensions: { '1001': { destinations: { allowCountries: ['US', 'GB'] } } } }, 'test');
    const after = t.guard.authorize(call('011442079460000'));
    expect(after.result).toBe('ALLOW');
    expect(after.policyVersion).toBeGreaterThan(before.policyVersion);
  });

  it('a lock survives replacing the extension policy, and 911 still passes', () => {
    t = tempGuard({ extensions: { '1001': {} } });
    t.store.lock('1001', 'suspicious calls', 'test');
    t.store.importDocument({ extensions: {} }, 'test');
    expect(t.guard.authorize(call('12125550123'))).toMatchObject({ reason: 'extension_locked' });
    expect(t.guard.authorize(call('911'))).toMatchObject({ result: 'ALLOW', reason: 'emergency' });
    expect(t.store.unlock('1001', 'test')).toBe(true);
    expect(t.guard.authorize(call('12125550123')).result).toBe('ALLOW');
  });

  it('another process changing the policy is seen at once (the version is read per decision)', () => {
    t = tempGuard();
    expect(t.guard.authorize(call('011442079460000')).result).toBe('DENY');
    const other = createSqliteStore({ path: t.dbPath });
    other.importDocument({ defaults: { destinations: { allowCountries: ['US', 'GB'] } } }, 'other-process');
    other.close();
    expect(t.guard.authorize(call('011442079460000')).result).toBe('ALLOW');
  });
});
