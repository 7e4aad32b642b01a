import { afterEach, describe, expect, it } from 'vitest';
import { createDecisionQueue } from '../../src/guard/decision-queue.js';
import type { DecisionRequest } from '../../src/domain/decision.js';
import { tempGuard, type TempGuard } from '../support/temp-db.js';

const call = (extension: string): DecisionRequest => ({
  extension,
  dialled: '12125550123',
  source: '10.0.0.5:5060',
  origin: 'phone',
  at: new Date('2026-11-17T15:00:00Z'),
  transport: 'agi',
});

describe('group commit of authorizations', () => {
  let t: TempGuard;
  afterEach(() => t.close());

  it('calls arriving together are decided in arrival order, each seeing the reservations before it', async () => {
    t = await tempGuard({ defaults: { budget: { maxConcurrent: 3 } } });
    const queue = createDecisionQueue(t.guard);
    const decisions = await Promise.all(Array.from({ length: 10 }, () => queue.authorize(call('1001'))));
    expect(decisions.map((d) => d.result)).toEqual(['ALLOW', 'ALLOW', 'ALLOW', ...Array(7).fill('DENY')]);
    // Every one is in the audit.
    for (const d of decisions) expect((await t.store.getDecision(d.callId))?.result).toBe(d.result);
  });

  it('splits a large burst into batches of at most maxBatch, in arrival order, and answers every call', async () => {
    t = await tempGuard({ defaults: { budget: { maxConcurrent: null } } });
    // The real guard, with each transaction's calls recorded on the way through.
    const batches: string[][] = [];
    const original = t.guard.authorizeBatch.bind(t.guard);
    const recording = {
      ...t.guard,
      authorizeBatch: (items: Parameters<typeof original>[0]) => {
        batches.push(items.map((item) => item.request.extension));
        return original(items);
      },
    };
    const queue = createDecisionQueue(recording, { maxBatch: 8 });
    const decisions = await Promise.all(Array.from({ length: 50 }, (_, i) => queue.authorize(call(`e${i}`))));
    expect(batches.map((b) => b.length)).toEqual([8, 8, 8, 8, 8, 8, 2]);
    expect(batches.flat()).toEqual(Array.from({ length: 50 }, (_, i) => `e${i}`));
    // Each caller got the decision made for its own call.
    expect(await Promise.all(decisions.map(async (d) => (await t.store.getDecision(d.callId))?.extension))).toEqual(batches.flat());
    expect(decisions.every((d) => d.result === 'ALLOW')).toBe(true);
    expect(new Set(decisions.map((d) => d.callId)).size).toBe(50);
  });

  it('a call whose decision throws fails alone; the others in its batch are decided and stored', async () => {
    t = await tempGuard();
    const original = t.guard.authorizeBatch.bind(t.guard);
    const failing = {
      ...t.guard,
      authorizeBatch: (items: Parameters<typeof original>[0]) =>
        original(items.map((item, i) => (i === 1 ? { ...item, request: { ...item.request, at: new Date(Number.NaN) } } : item))),
    };
    const queue = createDecisionQueue(failing);
    const results = await Promise.allSettled([queue.authorize(call('a')), queue.authorize(call('b')), queue.authorize(call('c'))]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });

  describe('waiting for the sessions whose environment is arriving', () => {
    /** The real guard, with each transaction's extensions recorded. */
    function recorded(guard: TempGuard['guard']): { guard: TempGuard['guard']; batches: string[][] } {
      const batches: string[][] = [];
      const original = guard.authorizeBatch.bind(guard);
      return {
        batches,
        guard: {
          ...guard,
          authorizeBatch: (items: Parameters<typeof original>[0]) => {
            batches.push(items.map((item) => item.request.extension));
            return original(items);
          },
        },
      };
    }
    const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

    it('holds a decision for a session expected to ask, and decides both in one transaction', async () => {
      t = await tempGuard();
      const { guard, batches } = recorded(t.guard);
      // A hold far longer than the test: only the arrival can end it.
      const queue = createDecisionQueue(guard, { maxWaitMs: 60_000 });
      const arrived = queue.expect();
      const first = queue.authorize(call('a'));
      await sleep(20);
      expect(batches).toEqual([]);
      const second = queue.authorize(call('b'));
      arrived();
      expect((await Promise.all([first, second])).map((d) => d.result)).toEqual(['ALLOW', 'ALLOW']);
      expect(batches).toEqual([['a', 'b']]);
    });

    it('decides a lone call at once when no session is arriving', async () => {
      t = await tempGuard();
      const { guard, batches } = recorded(t.guard);
      const queue = createDecisionQueue(guard, { maxWaitMs: 60_000 });
      queue.expect()();
      await queue.authorize(call('a'));
      expect(batches).toEqual([['a']]);
    });

    it('goes after maxWaitMs without a session that never completes its environment', async () => {
      t = await tempGuard();
      const { guard, batches } = recorded(t.guard);
      const queue = createDecisionQueue(guard, { maxWaitMs: 30 });
      queue.expect();
      const started = performance.now();
      await queue.authorize(call('a'));
      // Not a timing target: it shows the decision waited for the timer, not for the arrival.
      expect(performance.now() - started).toBeGreaterThanOrEqual(25);
      expect(batches).toEqual([['a']]);
    });

    it('does not hold a full batch', async () => {
      t = await tempGuard({ defaults: { budget: { maxConcurrent: null } } });
      const { guard, batches } = recorded(t.guard);
      const queue = createDecisionQueue(guard, { maxBatch: 4, maxWaitMs: 60_000 });
      queue.expect();
      await Promise.all(['a', 'b', 'c', 'd'].map((e) => queue.authorize(call(e))));
      expect(batches).toEqual([['a', 'b', 'c', 'd']]);
    });

    it('counts an arrival once, however often it is told', async () => {
      t = await tempGuard();
      const { guard, batches } = recorded(t.guard);
      const queue = createDecisionQueue(guard, { maxWaitMs: 60_000 });
      const first = queue.expect();
      const second = queue.expect();
      const a = queue.authorize(call('a'));
      first();
      first();
      await sleep(20);
      expect(batches).toEqual([]);
      second();
      await a;
      expect(batches).toEqual([['a']]);
    });
  });
});
