import { statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { DecisionRequest } from '../../src/domain/decision.js';
import { tempGuard, type TempGuard } from '../support/temp-db.js';

const call = (i: number): DecisionRequest => ({
  extension: `e${i % 50}`,
  dialled: '12125550123',
  source: '10.0.0.5:5060',
  origin: 'phone',
  at: new Date(),
  transport: 'agi',
});

/** Places `n` decisions in bursts, leaving the event loop (and the worker) time between them. */
async function decide(t: TempGuard, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await t.guard.authorize(call(i));
    if (i % 100 === 99) await sleep(30);
  }
}

describe('WAL checkpoints from a worker thread', () => {
  let t: TempGuard | undefined;
  afterEach(() => t?.close());

  it('keep the WAL small while the decision path never checkpoints itself', { timeout: 60_000 }, async () => {
    t = await tempGuard({ defaults: { budget: { maxConcurrent: null, dailySpend: null, monthlySpend: null, dailyMinutes: null } } }, { checkpointIntervalMs: 20 });
    await decide(t, 3000);
    expect(statSync(`${t.dbPath}-wal`).size).toBeLessThan(16 * 1024 * 1024);
  });

  it('without the worker (and with automatic checkpoints off) the same load grows the WAL several times past that', { timeout: 60_000 }, async () => {
    t = await tempGuard({ defaults: { budget: { maxConcurrent: null, dailySpend: null, monthlySpend: null, dailyMinutes: null } } }, { checkpointIntervalMs: 3_600_000 });
    await decide(t, 3000);
    expect(statSync(`${t.dbPath}-wal`).size).toBeGreaterThan(64 * 1024 * 1024);
  });
});
