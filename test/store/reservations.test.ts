import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { DecisionRequest } from '../../src/domain/decision.js';
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

  it('reserves the limit granted, and settlement gives back what the call did not use', async () => {
    t = await tempGuard(UK_BUDGET);
    const first = await t.guard.authorize(call('011442079460000'));
    expect(first.result).toBe('ALLOW');
    expect(first.limitMs).toBe(20 * 60_000); // 10.00 / 0.50 a minute
    // Budget fully reserved: a second call cannot start.
    expect(await t.guard.authorize(call('011442079460000'))).toMatchObject({ result: 'DENY', reason: 'budget_daily_spend' });

    // The first call lasted 2 min 5 s: billed 3 minutes, 1.50.
    const settled = await t.guard.settle({ callId: first.callId, answeredSeconds: 125, dialStatus: 'ANSWER', at: new Date() });
    expect(settled).toMatchObject({ outcome: 'settled', costMicros: 1_500_000, ext: '1001' });

    const next = await t.guard.authorize(call('011442079460000'));
    expect(next.result).toBe('ALLOW');
    expect(next.limitMs).toBe(17 * 60_000); // 8.50 left
  });

  it('an unanswered call costs nothing and frees its slot', async () => {
    t = await tempGuard(UK_BUDGET);
    const d = await t.guard.authorize(call('011442079460000'));
    expect((await t.guard.settle({ callId: d.callId, answeredSeconds: 0, dialStatus: 'BUSY', at: new Date() })).costMicros).toBe(0);
    expect(await t.store.usage('1001', new Date('2026-11-17T15:00:00Z'), 'America/New_York')).toEqual({
      activeCalls: 0,
      spentTodayMicros: 0,
      spentMonthMicros: 0,
      secondsToday: 0,
    });
  });

  it('a repeated or unknown settlement is harmless and recorded', async () => {
    t = await tempGuard(UK_BUDGET);
    const d = await t.guard.authorize(call('011442079460000'));
    await t.guard.settle({ callId: d.callId, answeredSeconds: 60, dialStatus: 'ANSWER', at: new Date() });
    expect((await t.guard.settle({ callId: d.callId, answeredSeconds: 60, dialStatus: 'ANSWER', at: new Date() })).outcome).toBe('duplicate');
    expect((await t.guard.settle({ callId: 'nope', answeredSeconds: 60, dialStatus: 'ANSWER', at: new Date() })).outcome).toBe('unknown');
    expect((await t.store.usage('1001', new Date('2026-11-17T15:00:00Z'), 'America/New_York')).spentTodayMicros).toBe(500_000);
    const db = new Database(t.dbPath, { readonly: true });
    expect(db.prepare('SELECT outcome FROM settlements ORDER BY id').pluck().all()).toEqual(['settled', 'duplicate', 'unknown']);
    db.close();
  });

  it('a reservation never settled expires after its limit plus grace: slot freed, cost kept', async () => {
    let now = Date.parse('2026-11-17T15:00:00Z');
    t = await tempGuard({ defaults: { budget: { maxConcurrent: 1, maxCallSeconds: 600 } } }, { reservationGraceSeconds: 60 });
    const first = await t.guard.authorize(call('12125550123', new Date(now)));
    expect(first.result).toBe('ALLOW');
    expect(await t.guard.authorize(call('12125550123', new Date(now)))).toMatchObject({ reason: 'budget_concurrency' });

    now += 659_000; // not yet: 600 s limit + 60 s grace
    expect(await t.guard.authorize(call('12125550123', new Date(now)))).toMatchObject({ reason: 'budget_concurrency' });
    now += 1_000;
    expect((await t.guard.authorize(call('12125550123', new Date(now)))).result).toBe('ALLOW');
    expect(await t.store.getReservation(first.callId)).toMatchObject({ status: 'expired', reservedMicros: 200_000 });
    // The expired call's cost stays charged (the safe side): two reservations of 10 min at 0.02.
    expect((await t.store.usage('1001', new Date(now), 'America/New_York')).spentTodayMicros).toBe(400_000);
  });

  it('a dry run, the usage read and the real decision see the same expiry of a reservation never settled', async () => {
    const at = Date.parse('2026-11-17T15:00:00Z');
    t = await tempGuard({ defaults: { budget: { maxConcurrent: 1 } } });
    expect((await t.guard.authorize(call('12125550123', new Date(at)))).result).toBe('ALLOW'); // never settled
    const agree = async (when: Date) => ({
      check: (await t.guard.check(call('12125550124', when))).reason,
      activeCalls: (await t.store.usage('1001', when, 'America/New_York')).activeCalls,
      activeReservations: (await t.store.activeReservations(when, '1001')).length,
    });
    // Still holding its slot (3600 s + 300 s grace): everyone says so.
    expect(await agree(new Date(at + 3899_000))).toEqual({ check: 'budget_concurrency', activeCalls: 1, activeReservations: 1 });
    // Two hours later it has expired, though no write has marked it yet: everyone says so too.
    const later = new Date(at + 2 * 3600_000);
    expect(await agree(later)).toEqual({ check: 'allowed', activeCalls: 0, activeReservations: 0 });
    expect((await t.guard.authorize(call('12125550124', later))).result).toBe('ALLOW');
    expect(await agree(later)).toEqual({ check: 'budget_concurrency', activeCalls: 1, activeReservations: 1 });
  });

  it('budgets are per day in the policy timezone: 23:30 and 00:30 New York time are different days', async () => {
    t = await tempGuard({ defaults: { budget: { dailySpend: 1, maxCallSeconds: 3000 } } });
    // 50 minutes at 0.02 = 1.00: the whole day.
    expect((await t.guard.authorize(call('12125550123', new Date('2026-11-18T04:30:00Z')))).result).toBe('ALLOW'); // 23:30 on the 17th
    expect(await t.guard.authorize(call('12125550123', new Date('2026-11-18T04:40:00Z')))).toMatchObject({ reason: 'budget_daily_spend' });
    expect((await t.guard.authorize(call('12125550123', new Date('2026-11-18T05:30:00Z')))).result).toBe('ALLOW'); // 00:30 on the 18th
  });
});

describe('the audit', () => {
  let t: TempGuard;
  afterEach(() => t.close());

  it('stores every decision, ALLOW and DENY, with inputs, checks, limit, policy version and latency', async () => {
    t = await tempGuard(UK_BUDGET);
    const allowed = await t.guard.authorize(call('011442079460000'));
    const denied = await t.guard.authorize(call('0115352123456'));
    const a = await t.store.getDecision(allowed.callId);
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
      policyVersion: (await t.store.loadPolicySet()).version,
      meta: { channel: 'PJSIP/1001-00000001' },
    });
    expect(a?.checks).toHaveLength(11);
    expect(a?.latencyUs).toBeGreaterThan(0);
    expect(await t.store.getDecision(denied.callId)).toMatchObject({ result: 'DENY', reason: 'destination_country_denied', reservedMicros: null });
  });

  it('a dry run reserves and records nothing', async () => {
    t = await tempGuard(UK_BUDGET);
    expect((await t.guard.check(call('011442079460000'))).result).toBe('ALLOW');
    const db = new Database(t.dbPath, { readonly: true });
    expect(db.prepare('SELECT (SELECT COUNT(*) FROM decisions) + (SELECT COUNT(*) FROM reservations)').pluck().get()).toBe(0);
    db.close();
  });
});

describe('policy versions and locks', () => {
  let t: TempGuard;
  afterEach(() => t.close());

  it('a new policy applies to the next call, and the decision names the version it used', async () => {
    t = await tempGuard();
    const before = await t.guard.authorize(call('011442079460000'));
    expect(before.reason).toBe('destination_country_denied');
    await t.store.importDocument({ extensions: { '1001': { destinations: { allowCountries: ['US', 'GB'] } } } }, 'test', () => undefined);
    const after = await t.guard.authorize(call('011442079460000'));
    expect(after.result).toBe('ALLOW');
    expect(after.policyVersion).toBeGreaterThan(before.policyVersion);
  });

  it('a lock survives replacing the extension policy, and 911 still passes', async () => {
    t = await tempGuard({ extensions: { '1001': {} } });
    await t.store.lock('1001', 'suspicious calls', 'test');
    await t.store.importDocument({ extensions: {} }, 'test', () => undefined);
    expect(await t.guard.authorize(call('12125550123'))).toMatchObject({ reason: 'extension_locked' });
    expect(await t.guard.authorize(call('911'))).toMatchObject({ result: 'ALLOW', reason: 'emergency' });
    expect(await t.store.unlock('1001', 'test')).toBe(true);
    expect((await t.guard.authorize(call('12125550123'))).result).toBe('ALLOW');
  });

  it('another process changing the policy is seen at once (the version is read per decision)', async () => {
    t = await tempGuard();
    expect((await t.guard.authorize(call('011442079460000'))).result).toBe('DENY');
    const other = createSqliteStore({ path: t.dbPath });
    await other.importDocument({ defaults: { destinations: { allowCountries: ['US', 'GB'] } } }, 'other-process', () => undefined);
    await other.close();
    expect((await t.guard.authorize(call('011442079460000'))).result).toBe('ALLOW');
  });
});
