import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHECK_NAMES } from '../../../src/engine/checks/registry.js';
import { repoRoot } from '../../support/captures.js';
import { call, useContractGuards, type ContractSection } from './fixture.js';

const WORKER = resolve(repoRoot, 'test/support/authorize-worker.ts');

interface WorkerResult {
  result: string;
  reason: string;
  reserved: number;
}

function startWorker(database: string, count: number, number: string, name: string): { child: ChildProcessWithoutNullStreams; lines: string[]; ready: Promise<void> } {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER, database, String(count), number, name], { cwd: repoRoot });
  const lines: string[] = [];
  let buffer = '';
  let stderr = '';
  const ready = new Promise<void>((resolveReady, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let i: number;
      while ((i = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 1);
        if (line === 'ready') resolveReady();
        else lines.push(line);
      }
    });
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => code !== 0 && reject(new Error(`worker ${name} exited ${code}: ${stderr}`)));
  });
  return { child, lines, ready };
}

/** Several processes on one database, released at the same moment. */
async function race(database: string, processes: number, perProcess: number, number: string): Promise<WorkerResult[]> {
  const workers = Array.from({ length: processes }, (_, i) => startWorker(database, perProcess, number, `w${i}`));
  await Promise.all(workers.map((w) => w.ready));
  for (const w of workers) w.child.stdin.end('go\n');
  await Promise.all(workers.map((w) => once(w.child, 'exit')));
  return workers.flatMap((w) => JSON.parse(w.lines[0] as string) as WorkerResult[]);
}

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
const NEW_YORK = 'America/New_York';

/** The decision path: atomic authorisations, reservations and their expiry, settlement, dry runs. */
export const decisionContract: ContractSection = (factory) => {
  const open = useContractGuards(factory);

  describe('budget atomicity across processes on one database', () => {
    it('200 concurrent authorizations from 4 processes against maxConcurrent 5 give exactly 5 ALLOWs', { timeout: 120_000 }, async () => {
      const t = await open({ defaults: { budget: { maxConcurrent: 5 } } });
      const results = await race(t.database, 4, 50, '12125550123');
      expect(results).toHaveLength(200);
      expect(results.filter((r) => r.result === 'ALLOW')).toHaveLength(5);
      expect(results.filter((r) => r.result === 'DENY').every((r) => r.reason === 'budget_concurrency')).toBe(true);
      expect(await t.store.countActiveReservations(new Date())).toBe(5);
      expect(await t.store.listDecisions({}, { limit: 1000 })).toHaveLength(200);
    });

    it('the reserved total never exceeds the daily spend budget', { timeout: 120_000 }, async () => {
      // 0.50/min to the UK, 5-minute calls (2.50 each) against 10.30 a day: four calls fit, then 0.30 buys no minute.
      const t = await open({
        defaults: {
          destinations: { allowCountries: ['US', 'GB'] },
          budget: { maxConcurrent: null, dailySpend: 10.3, monthlySpend: null, dailyMinutes: null, maxCallSeconds: 300 },
        },
        rates: [
          { prefix: '+', perMinute: 1, increment: 60 },
          { prefix: '+44', perMinute: 0.5, increment: 60 },
        ],
      });
      const results = await race(t.database, 4, 50, '011442079460000');
      const allowed = results.filter((r) => r.result === 'ALLOW');
      const reserved = allowed.reduce((sum, r) => sum + r.reserved, 0);
      expect(reserved).toBeLessThanOrEqual(10_300_000);
      expect(allowed).toHaveLength(4);
      expect(results.filter((r) => r.result === 'DENY').every((r) => r.reason === 'budget_daily_spend')).toBe(true);
    });
  });

  describe('reservations and settlement', () => {
    it('reserves the limit granted, and settlement gives back what the call did not use', async () => {
      const t = await open(UK_BUDGET);
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
      const t = await open(UK_BUDGET);
      const d = await t.guard.authorize(call('011442079460000'));
      expect((await t.guard.settle({ callId: d.callId, answeredSeconds: 0, dialStatus: 'BUSY', at: new Date() })).costMicros).toBe(0);
      expect(await t.store.usage('1001', new Date('2026-11-17T15:00:00Z'), NEW_YORK)).toEqual({
        activeCalls: 0,
        spentTodayMicros: 0,
        spentMonthMicros: 0,
        secondsToday: 0,
      });
    });

    it('a repeated or unknown settlement is harmless and recorded (settling is idempotent)', async () => {
      const t = await open(UK_BUDGET);
      const d = await t.guard.authorize(call('011442079460000'));
      await t.guard.settle({ callId: d.callId, answeredSeconds: 60, dialStatus: 'ANSWER', at: new Date() });
      expect((await t.guard.settle({ callId: d.callId, answeredSeconds: 60, dialStatus: 'ANSWER', at: new Date() })).outcome).toBe('duplicate');
      // A duplicate with other figures changes nothing either.
      expect(await t.guard.settle({ callId: d.callId, answeredSeconds: 600, dialStatus: 'ANSWER', at: new Date() })).toMatchObject({ outcome: 'duplicate', costMicros: 500_000 });
      expect((await t.guard.settle({ callId: 'nope', answeredSeconds: 60, dialStatus: 'ANSWER', at: new Date() })).outcome).toBe('unknown');
      expect((await t.store.usage('1001', new Date('2026-11-17T15:00:00Z'), NEW_YORK)).spentTodayMicros).toBe(500_000);
      expect((await t.store.listSettlements(d.callId)).map((s) => s.outcome)).toEqual(['settled', 'duplicate', 'duplicate']);
      expect((await t.store.listSettlements('nope')).map((s) => s.outcome)).toEqual(['unknown']);
      expect(await t.store.getReservation(d.callId)).toMatchObject({ status: 'settled', answeredSeconds: 60, costMicros: 500_000 });
    });

    it('a reservation never settled expires after its limit plus grace: slot freed, cost kept', async () => {
      let now = Date.parse('2026-11-17T15:00:00Z');
      const t = await open({ defaults: { budget: { maxConcurrent: 1, maxCallSeconds: 600 } } }, { reservationGraceSeconds: 60 });
      const first = await t.guard.authorize(call('12125550123', new Date(now)));
      expect(first.result).toBe('ALLOW');
      expect(await t.guard.authorize(call('12125550123', new Date(now)))).toMatchObject({ reason: 'budget_concurrency' });

      now += 659_000; // not yet: 600 s limit + 60 s grace
      expect(await t.guard.authorize(call('12125550123', new Date(now)))).toMatchObject({ reason: 'budget_concurrency' });
      now += 1_000;
      expect((await t.guard.authorize(call('12125550123', new Date(now)))).result).toBe('ALLOW');
      expect(await t.store.getReservation(first.callId)).toMatchObject({ status: 'expired', reservedMicros: 200_000 });
      // The expired call's cost stays charged (the safe side): two reservations of 10 min at 0.02.
      expect((await t.store.usage('1001', new Date(now), NEW_YORK)).spentTodayMicros).toBe(400_000);
      // Settling it late replaces its reservation with the real cost.
      expect(await t.guard.settle({ callId: first.callId, answeredSeconds: 60, dialStatus: 'ANSWER', at: new Date(now) })).toMatchObject({
        outcome: 'settled_after_expiry',
        costMicros: 20_000,
      });
      expect((await t.store.usage('1001', new Date(now), NEW_YORK)).spentTodayMicros).toBe(220_000);
    });

    it('a dry run, the usage read and the real decision see the same expiry of a reservation never settled', async () => {
      const at = Date.parse('2026-11-17T15:00:00Z');
      const t = await open({ defaults: { budget: { maxConcurrent: 1 } } });
      expect((await t.guard.authorize(call('12125550123', new Date(at)))).result).toBe('ALLOW'); // never settled
      const agree = async (when: Date) => ({
        check: (await t.guard.check(call('12125550124', when))).reason,
        activeCalls: (await t.store.usage('1001', when, NEW_YORK)).activeCalls,
        activeReservations: (await t.store.activeReservations(when, '1001')).length,
        countActive: await t.store.countActiveReservations(when),
      });
      // Still holding its slot (3600 s + 300 s grace): everyone says so.
      expect(await agree(new Date(at + 3899_000))).toEqual({ check: 'budget_concurrency', activeCalls: 1, activeReservations: 1, countActive: 1 });
      // Two hours later it has expired, though no write has marked it yet: everyone says so too.
      const later = new Date(at + 2 * 3600_000);
      expect(await agree(later)).toEqual({ check: 'allowed', activeCalls: 0, activeReservations: 0, countActive: 0 });
      expect((await t.guard.authorize(call('12125550124', later))).result).toBe('ALLOW');
      expect(await agree(later)).toEqual({ check: 'budget_concurrency', activeCalls: 1, activeReservations: 1, countActive: 1 });
    });

    it('budgets are per day in the policy timezone: 23:30 and 00:30 New York time are different days', async () => {
      const t = await open({ defaults: { budget: { dailySpend: 1, maxCallSeconds: 3000 } } });
      // 50 minutes at 0.02 = 1.00: the whole day.
      expect((await t.guard.authorize(call('12125550123', new Date('2026-11-18T04:30:00Z')))).result).toBe('ALLOW'); // 23:30 on the 17th
      expect(await t.guard.authorize(call('12125550123', new Date('2026-11-18T04:40:00Z')))).toMatchObject({ reason: 'budget_daily_spend' });
      expect((await t.guard.authorize(call('12125550123', new Date('2026-11-18T05:30:00Z')))).result).toBe('ALLOW'); // 00:30 on the 18th
    });

    it('a batch decides in order, each call seeing the ones before it; an item that throws fails alone', async () => {
      const t = await open({ defaults: { budget: { maxConcurrent: 2 } } });
      const startedAt = process.hrtime.bigint();
      const outcomes = await t.guard.authorizeBatch(Array.from({ length: 3 }, () => ({ request: call('12125550123'), startedAt })));
      expect(outcomes.map((o) => (o.ok ? o.decision.reason : 'error'))).toEqual(['allowed', 'allowed', 'budget_concurrency']);
      const boom = new Error('the engine failed on this one');
      const failing = await t.store.authorizeBatch([
        { request: call('12125550123', undefined, '2001'), decider: { plan: () => { throw boom; } } },
        { request: call('12125550123', undefined, '2002'), decider: { plan: (snapshot) => ({ timezone: NEW_YORK, fraud: null, decide: () => ({ decision: deny(snapshot.policy.version), latencyUs: 1 }) }) } },
      ]);
      expect(failing[0]).toEqual({ ok: false, error: boom });
      expect(failing[1]).toMatchObject({ ok: true, decision: { result: 'DENY', reason: 'extension_disabled' } });
      expect((await t.store.listDecisions({}, { limit: 10 })).map((d) => d.extension)).toEqual(['2002', '1001', '1001', '1001']);
    });
  });

  describe('the audit of each decision', () => {
    it('stores every decision, ALLOW and DENY, with inputs, checks, limit, policy version and latency', async () => {
      const t = await open(UK_BUDGET);
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
      expect(a?.checks).toHaveLength(CHECK_NAMES.length);
      expect(a?.latencyUs).toBeGreaterThan(0);
      expect(await t.store.getDecision(denied.callId)).toMatchObject({ result: 'DENY', reason: 'destination_country_denied', reservedMicros: null });
    });

    it('a dry run reserves and records nothing', async () => {
      const t = await open(UK_BUDGET);
      expect((await t.guard.check(call('011442079460000'))).result).toBe('ALLOW');
      expect(await t.store.listDecisions({}, { limit: 10 })).toEqual([]);
      expect(await t.store.activeReservations(new Date('2026-11-17T15:00:00Z'))).toEqual([]);
      expect(await t.store.usage('1001', new Date('2026-11-17T15:00:00Z'), NEW_YORK)).toEqual({ activeCalls: 0, spentTodayMicros: 0, spentMonthMicros: 0, secondsToday: 0 });
    });
  });
};

/** A decision as the engine would make it for a disabled extension: what a hand-made decider returns. */
function deny(policyVersion: number) {
  return {
    result: 'DENY' as const,
    reason: 'extension_disabled' as const,
    message: 'this extension may not place calls',
    limitMs: 0,
    e164: null,
    country: null,
    numberType: null,
    source: { ip: null, country: null },
    checks: [],
    grant: null,
    policyVersion,
  };
}
