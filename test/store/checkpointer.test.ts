import { existsSync, statSync } from 'node:fs';
import { setImmediate as turn, setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { DecisionRequest } from '../../src/domain/decision.js';
import { CHECKPOINT_INTERVAL_MS } from '../../src/store/open-store.js';
import { tempGuard, type TempGuard } from '../support/temp-db.js';

const NO_BUDGETS = { defaults: { budget: { maxConcurrent: null, dailySpend: null, monthlySpend: null, dailyMinutes: null } } };

const call = (i: number): DecisionRequest => ({
  extension: `e${i % 50}`,
  dialled: '12125550123',
  source: '10.0.0.5:5060',
  origin: 'phone',
  at: new Date(),
  transport: 'agi',
});

const walSize = (t: TempGuard): number => (existsSync(`${t.dbPath}-wal`) ? statSync(`${t.dbPath}-wal`).size : 0);

/** Places `n` decisions in bursts, leaving the event loop (and the worker) time between them. */
async function decide(t: TempGuard, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await t.guard.authorize(call(i));
    if (i % 100 === 99) await sleep(30);
  }
}

/**
 * As `serve` under sustained load: group commits of `batch` decisions back to back, the event
 * loop turning between them and nothing else. Returns the WAL's largest size.
 */
async function sustained(t: TempGuard, n: number, batch: number): Promise<number> {
  let peak = 0;
  for (let i = 0; i < n; i += batch) {
    await t.guard.authorizeBatch(Array.from({ length: batch }, (_, j) => ({ request: call(i + j), startedAt: process.hrtime.bigint() })));
    peak = Math.max(peak, walSize(t));
    await turn();
  }
  return peak;
}

/** Single-decision commits: enough that, unchecked, their WAL frames (2 KB pages) pass 64 MB. */
const LOAD = 5000;

describe('WAL checkpoints from a worker thread', () => {
  let t: TempGuard | undefined;
  afterEach(() => t?.close());

  it('keep the WAL small while the decision path never checkpoints itself', { timeout: 60_000 }, async () => {
    t = await tempGuard(NO_BUDGETS, { checkpointIntervalMs: 20 });
    await decide(t, LOAD);
    expect(walSize(t)).toBeLessThan(16 * 1024 * 1024);
  });

  it('without the worker (and with automatic checkpoints off) the same load grows the WAL several times past that', { timeout: 60_000 }, async () => {
    t = await tempGuard(NO_BUDGETS, { checkpointIntervalMs: 3_600_000 });
    await decide(t, LOAD);
    expect(walSize(t)).toBeGreaterThan(64 * 1024 * 1024);
  });

  it('bound the WAL to 64 MB under sustained load at the server interval, and truncate it once the load stops', { timeout: 120_000 }, async () => {
    t = await tempGuard(NO_BUDGETS, { checkpointIntervalMs: CHECKPOINT_INTERVAL_MS });
    const peak = await sustained(t, 12_000, 32);
    expect(peak).toBeLessThanOrEqual(64 * 1024 * 1024);

    const deadline = Date.now() + 10_000;
    while (walSize(t) > 0 && Date.now() < deadline) await sleep(50);
    expect(walSize(t)).toBe(0);
  });
});
