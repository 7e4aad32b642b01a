import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_AMOUNT } from '../../src/bounds.js';
import type { DecisionRequest } from '../../src/domain/decision.js';
import type { PolicyDocument } from '../../src/policy/document.js';
import { toMicros } from '../../src/rates/rate-table.js';
import { tempGuard, type TempGuard } from '../support/temp-db.js';

/**
 * The store's last line of defence, for a caller that skipped validation: it refuses to write a
 * number that is not finite or that no field admits, with DG_VALUE_OUT_OF_RANGE, and writes
 * nothing of that transaction.
 */
let t: TempGuard;
afterEach(() => t?.close());

const OUT_OF_RANGE = expect.objectContaining({ code: 'DG_VALUE_OUT_OF_RANGE' });
const call = (): DecisionRequest => ({ extension: '1001', dialled: '2125550123', source: '10.0.0.5:5060', origin: 'phone', at: new Date(), transport: 'agi' });

describe('the store refuses numbers out of range', () => {
  it.each<[string, PolicyDocument]>([
    ['a rate of 1.797e308', { rates: [{ prefix: '+', perMinute: 1.797e308, increment: 60 }] }],
    ['an infinite rate (JSON would store it as null)', { rates: [{ prefix: '+', perMinute: Number.POSITIVE_INFINITY, increment: 60 }] }],
    ['a budget of 1.797e308', { defaults: { budget: { dailySpend: 1.797e308 } } }],
    ['a NaN budget', { extensions: { '1001': { budget: { monthlySpend: Number.NaN } } } }],
    ['a negative count', { defaults: { velocity: { maxAttemptsPerMinute: -1 } } }],
  ])('in an import: %s', async (_what, doc) => {
    t = await tempGuard();
    await expect(t.store.importDocument(doc, 'test', () => undefined)).rejects.toThrow(OUT_OF_RANGE);
    expect((await t.store.loadPolicySet()).version).toBe(0);
    expect(await t.store.loadPolicySet()).toMatchObject({ rates: null, defaults: {} });
    expect(await t.store.listExtensions()).toEqual([]);
  });

  it('in an extension update and a setting update', async () => {
    t = await tempGuard();
    await expect(t.store.updateExtension('1001', 'test', () => ({ budget: { dailySpend: 1.797e308 } }))).rejects.toThrow(OUT_OF_RANGE);
    await expect(t.store.updateSetting('rates', 'test', () => [{ prefix: '+', perMinute: 1.797e308, increment: 60 }])).rejects.toThrow(OUT_OF_RANGE);
    expect(await t.store.getExtension('1001')).toBeNull();
    expect(await t.store.readSetting('rates')).toEqual({ value: null, version: 0 });
  });

  it.each([toMicros(1.797e308), Number.POSITIVE_INFINITY, toMicros(MAX_AMOUNT) + 1, -1, 0.5])('as the circuit breaker limit: %d micros', async (micros) => {
    t = await tempGuard();
    await expect(t.store.setCircuitBreakerLimit(micros, 'test', new Date())).rejects.toThrow(OUT_OF_RANGE);
    expect((await t.store.circuitBreaker(new Date())).limitMicros).toBe(500_000_000);
    expect(await t.store.policyHistory(['circuit-breaker'], { limit: 10 })).toEqual([]);
  });

  it('takes the largest limit and no limit', async () => {
    t = await tempGuard();
    expect((await t.store.setCircuitBreakerLimit(toMicros(MAX_AMOUNT), 'test', new Date())).limitMicros).toBe(1e14);
    expect((await t.store.setCircuitBreakerLimit(null, 'test', new Date())).limitMicros).toBeNull();
  });

  it('never reserves an infinite cost, even from a rate written into the file before the bounds existed', async () => {
    t = await tempGuard();
    const db = new Database(t.dbPath);
    db.prepare(`INSERT INTO settings (key, value) VALUES ('rates', ?)`).run(JSON.stringify([{ prefix: '+', perMinute: 1.797e308, increment: 60 }]));
    db.prepare(`UPDATE meta SET value = '1' WHERE key = 'policy_version'`).run();
    db.close();
    // A zero daily and monthly budget would deny before pricing: leave them unlimited.
    await t.store.updateSetting('defaults', 'test', () => ({ budget: { dailySpend: null, monthlySpend: null } }));
    await expect(t.guard.authorize(call())).rejects.toThrow(OUT_OF_RANGE);
    expect(await t.store.listDecisions({}, { limit: 10 })).toEqual([]);
    expect(await t.store.activeReservations(new Date())).toEqual([]);
  });
});
