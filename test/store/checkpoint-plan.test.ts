import { describe, expect, it } from 'vitest';
import { BLOCKED_RETRY_MS, HARD_WAL_BYTES, IDLE_MS, initialPlanState, planCheckpoint, SOFT_WAL_BYTES, type CheckpointPlanState, type WalStatus } from '../../src/store/sqlite/checkpoint-plan.js';

const MB = 1024 * 1024;
const wal = (logBytes: number, checkpointedBytes = logBytes, busy = false): WalStatus => ({ busy, logBytes, checkpointedBytes });
const after = (steps: Array<[WalStatus, number]>): CheckpointPlanState =>
  steps.reduce((state, [status, at]) => planCheckpoint(state, 'PASSIVE', status, at).state, initialPlanState());

describe('the WAL checkpoint plan', () => {
  it('waits for the next tick while the WAL is small and writers are busy', () => {
    const state = after([[wal(1 * MB), 0]]);
    expect(planCheckpoint(state, 'PASSIVE', wal(2 * MB), 100).next).toBeNull();
  });

  it('above the soft bound chases the writers with PASSIVE at once, but not when a reader stops it copying', () => {
    const state = after([[wal(SOFT_WAL_BYTES, SOFT_WAL_BYTES - MB), 0]]);
    expect(planCheckpoint(state, 'PASSIVE', wal(SOFT_WAL_BYTES + MB), 10).next).toBe('PASSIVE');
    // Held back by a reader: the log grows, nothing more is copied.
    expect(planCheckpoint(state, 'PASSIVE', wal(SOFT_WAL_BYTES + MB, SOFT_WAL_BYTES - MB), 10).next).toBeNull();
  });

  it('above the hard bound restarts the WAL; one that found it busy is not retried for a while', () => {
    const state = after([[wal(SOFT_WAL_BYTES), 0]]);
    const big = planCheckpoint(state, 'PASSIVE', wal(HARD_WAL_BYTES), 10);
    expect(big.next).toBe('RESTART');
    const busy = planCheckpoint(big.state, 'RESTART', wal(HARD_WAL_BYTES + MB, HARD_WAL_BYTES, true), 12);
    expect(busy.next).toBeNull();
    expect(planCheckpoint(busy.state, 'PASSIVE', wal(HARD_WAL_BYTES + 2 * MB), 100).next).toBe('PASSIVE');
    expect(planCheckpoint(busy.state, 'PASSIVE', wal(HARD_WAL_BYTES + 2 * MB), 12 + BLOCKED_RETRY_MS).next).toBe('RESTART');
  });

  it('truncates the WAL once no commit came for IDLE_MS, and only then', () => {
    const state = after([[wal(3 * MB), 0], [wal(3 * MB), 500]]);
    expect(planCheckpoint(state, 'PASSIVE', wal(3 * MB), IDLE_MS - 1).next).toBeNull();
    expect(planCheckpoint(state, 'PASSIVE', wal(3 * MB), IDLE_MS).next).toBe('TRUNCATE');
    const truncated = planCheckpoint(state, 'TRUNCATE', wal(0), IDLE_MS);
    expect(planCheckpoint(truncated.state, 'PASSIVE', wal(0), 10 * IDLE_MS).next).toBeNull();
  });

  it('a WAL left above the hard bound when the load stopped is truncated, not restarted again and again', () => {
    const restarted = planCheckpoint(after([[wal(SOFT_WAL_BYTES), 0], [wal(HARD_WAL_BYTES), 10]]), 'RESTART', wal(HARD_WAL_BYTES), 10).state;
    expect(planCheckpoint(restarted, 'PASSIVE', wal(HARD_WAL_BYTES), 110).next).toBeNull();
    expect(planCheckpoint(restarted, 'PASSIVE', wal(HARD_WAL_BYTES), 10 + IDLE_MS).next).toBe('TRUNCATE');
  });
});
