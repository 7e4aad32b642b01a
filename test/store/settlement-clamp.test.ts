import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_CALL_SECONDS, SETTLEMENT_TOLERANCE_SECONDS } from '../../src/bounds.js';
import type { DecisionRequest } from '../../src/domain/decision.js';
import { settlementFromArgs } from '../../src/guard/settlement-args.js';
import { migrate } from '../../src/store/sqlite/migrations.js';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { testApp, type TestApp } from '../http/app-fixture.js';

/**
 * Dial's L() ends a call at the limit it was granted, so ANSWEREDTIME cannot honestly exceed it
 * by more than a rounding: a larger value is clamped to the limit (plus the tolerance), and the
 * settlement row keeps what was reported and that it was clamped.
 */
let t: TestApp;
afterEach(async () => t?.closeAll());

const AT = new Date('2026-11-17T15:00:00Z');
const OLD_CALL = '01JDGQ7K3M5X8Y2Z4A6B8C0D1E';
const call = (): DecisionRequest => ({ extension: '1001', dialled: '2125550123', source: '10.0.0.5:5060', origin: 'phone', at: AT, transport: 'agi' });
const usage = async () => await t.store.usage('1001', AT, 'America/New_York');

function settlementRows() {
  const db = new Database(t.dbPath, { readonly: true });
  try {
    return db.prepare('SELECT answered_seconds, reported, clamped, cost_micros FROM settlements ORDER BY id').all();
  } finally {
    db.close();
  }
}

// The default budget grants a US call 3,600 s at 0.02 a minute, billed per 60 s: 1.20 reserved.
const LIMIT = 3600;
const CLAMPED = LIMIT + SETTLEMENT_TOLERANCE_SECONDS;
// 3,602 s bill as 61 minutes.
const CLAMPED_COST = 1_220_000;

describe('settlement of an ANSWEREDTIME longer than the granted limit', () => {
  it.each(['99999999999', '1e308', '1e309'])('clamps %s to the limit plus the tolerance: a bounded charge, finite totals', async (reported) => {
    t = await testApp();
    const d = await t.guard.authorize(call());
    expect(d.grant?.seconds).toBe(LIMIT);
    const result = await t.guard.settle(settlementFromArgs(d.callId, reported, 'ANSWER', AT).request);
    expect(result).toMatchObject({ outcome: 'settled', costMicros: CLAMPED_COST, answeredSeconds: CLAMPED, clamped: true, limitSeconds: LIMIT });
    expect(await t.store.getReservation(d.callId)).toMatchObject({ status: 'settled', answeredSeconds: CLAMPED, costMicros: CLAMPED_COST });
    expect(await usage()).toEqual({ activeCalls: 0, spentTodayMicros: CLAMPED_COST, spentMonthMicros: CLAMPED_COST, secondsToday: CLAMPED });
    expect(settlementRows()).toEqual([{ answered_seconds: CLAMPED, reported, clamped: 1, cost_micros: CLAMPED_COST }]);
  });

  it('takes a value within the tolerance as reported, and clamps one second more', async () => {
    t = await testApp();
    const within = await t.guard.authorize(call());
    expect(await t.guard.settle(settlementFromArgs(within.callId, String(CLAMPED), 'ANSWER', AT).request)).toMatchObject({ answeredSeconds: CLAMPED, clamped: false });
    const over = await t.guard.authorize(call());
    expect(await t.guard.settle(settlementFromArgs(over.callId, String(CLAMPED + 1), 'ANSWER', AT).request)).toMatchObject({ answeredSeconds: CLAMPED, clamped: true });
    expect(settlementRows()).toMatchObject([
      { reported: String(CLAMPED), clamped: 0 },
      { reported: String(CLAMPED + 1), clamped: 1 },
    ]);
  });

  it('an unknown or repeated settlement is bounded by the longest limit any call can get', async () => {
    t = await testApp();
    const d = await t.guard.authorize(call());
    await t.guard.settle(settlementFromArgs(d.callId, '60', 'ANSWER', AT).request);
    expect(await t.guard.settle(settlementFromArgs(d.callId, '1e308', 'ANSWER', AT).request)).toMatchObject({ outcome: 'duplicate', clamped: true });
    expect(await t.guard.settle(settlementFromArgs('NOPE', '1e308', 'ANSWER', AT).request)).toMatchObject({ outcome: 'unknown', clamped: true });
    expect(settlementRows()).toMatchObject([
      { answered_seconds: 60, clamped: 0 },
      { answered_seconds: CLAMPED, reported: '1e308', clamped: 1 },
      { answered_seconds: MAX_CALL_SECONDS + SETTLEMENT_TOLERANCE_SECONDS, reported: '1e308', clamped: 1 },
    ]);
    expect((await usage()).secondsToday).toBe(60);
  });

  it('refuses a settlement of no number at all (NaN) with a stable code, and changes nothing', async () => {
    t = await testApp();
    const d = await t.guard.authorize(call());
    await expect(t.guard.settle({ callId: d.callId, answeredSeconds: Number.NaN, dialStatus: 'ANSWER', at: AT })).rejects.toThrow(
      expect.objectContaining({ code: 'DG_VALUE_OUT_OF_RANGE' }),
    );
    expect((await t.store.getReservation(d.callId))?.status).toBe('active');
    expect(settlementRows()).toEqual([]);
  });

  it('the decision detail shows the settlement as reported and as clamped', async () => {
    t = await testApp();
    const d = await t.guard.authorize(call());
    await t.guard.settle(settlementFromArgs(d.callId, '99999999999', 'ANSWER', AT).request);
    const response = await t.app.inject({ url: `/api/v1/decisions/${d.callId}`, headers: t.as(t.auditor) });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      reservation: { answeredSeconds: CLAMPED, cost: 1.22 },
      settlements: [{ answeredSeconds: CLAMPED, reported: '99999999999', clamped: true, outcome: 'settled', cost: 1.22 }],
    });
    const usageView = await t.app.inject({ url: '/api/v1/usage/1001', headers: t.as(t.auditor) });
    expect(usageView.json()).toMatchObject({ today: { spend: expect.any(Number), minutes: expect.any(Number) } });
  });
});

describe('a database settled before the reported value was kept', () => {
  it('is migrated: its settlements read back with reported null and clamped false', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dialguard-schema3-'));
    const path = join(dir, 'dialguard.db');
    // A database as the previous release (schema 3) left it, with one settlement.
    const db = new Database(path);
    migrate(db, 3);
    db.prepare(`INSERT INTO settlements (call_id, at, answered_seconds, dial_status, outcome, cost_micros) VALUES (?, ?, 60, 'ANSWER', 'settled', 20000)`).run(OLD_CALL, AT.getTime());
    db.close();

    const store = createSqliteStore({ path });
    try {
      expect(await store.listSettlements(OLD_CALL)).toEqual([{ at: AT.getTime(), answeredSeconds: 60, dialStatus: 'ANSWER', outcome: 'settled', costMicros: 20_000, reported: null, clamped: false }]);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('what the dialplan reports, read', () => {
  it.each([
    ['', 0, null],
    ['4', 4, null],
    ['2.5', 3, null],
    ['abc', 0, 'not a number'],
    ['-5', 0, 'negative'],
    ['  7 ', 7, null],
  ])('%j settles %d seconds (%s)', (text, seconds, problem) => {
    const { request, problem: found } = settlementFromArgs(' 01JDGQ7K3M5X8Y2Z4A6B8C0D1E ', text, 'ANSWER', AT);
    expect(request).toMatchObject({ callId: '01JDGQ7K3M5X8Y2Z4A6B8C0D1E', answeredSeconds: seconds, reported: text.trim() });
    expect(found).toBe(problem);
  });

  it('cuts a long reported value, so a settlement row stays small', () => {
    const { request } = settlementFromArgs('X', '9'.repeat(500), 'ANSWER', AT);
    expect(request.reported).toHaveLength(64);
    expect(request.answeredSeconds).toBeGreaterThan(1e300);
  });
});
