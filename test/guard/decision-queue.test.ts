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
    const queue = createDecisionQueue(recording, 8);
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
});
