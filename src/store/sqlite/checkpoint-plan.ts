/**
 * When to checkpoint the WAL, and how hard. A PASSIVE checkpoint never waits for or blocks a
 * writer, but the next commit restarts the WAL from its start only if the checkpoint finished
 * before that commit's transaction began: under sustained load it hardly ever does, and the WAL
 * grows without end (5 GB over 100,000 decisions at full rate). So: PASSIVE on every tick; above
 * a soft bound, PASSIVE again at once, to catch a gap between commits; above a hard bound,
 * RESTART, which copies what the PASSIVE before it could not see and syncs, holding the write
 * lock (a few ms), so that the next commit restarts the WAL; once the load stops, TRUNCATE, so
 * that a quiet site holds no WAL at all.
 */
export type CheckpointMode = 'PASSIVE' | 'RESTART' | 'TRUNCATE';

/** What `PRAGMA wal_checkpoint` reported, in bytes. */
export interface WalStatus {
  /** A RESTART or TRUNCATE checkpoint could not finish: a reader or a writer held on. */
  busy: boolean;
  /** WAL frames written since the WAL last restarted. */
  logBytes: number;
  /** Of them, the frames already copied into the database. */
  checkpointedBytes: number;
}

export interface CheckpointPlanState {
  logBytes: number;
  checkpointedBytes: number;
  /** When logBytes last changed: unchanged for IDLE_MS means the writers stopped. */
  changedAt: number;
  /** When a RESTART or TRUNCATE last found the database busy. */
  blockedAt: number;
}

/** Above this, chase the writers with PASSIVE checkpoints back to back. */
export const SOFT_WAL_BYTES = 4 * 1024 * 1024;
/** Above this, RESTART. Lower means more, equally short, stalls of the decision path; higher, a larger WAL. */
export const HARD_WAL_BYTES = 8 * 1024 * 1024;
/** No commit for this long: the load dropped, the WAL is truncated. */
export const IDLE_MS = 1000;
/** A blocking checkpoint that found the database busy (a long export holds its snapshot) is not tried again before this. */
export const BLOCKED_RETRY_MS = 1000;

export function initialPlanState(): CheckpointPlanState {
  return { logBytes: 0, checkpointedBytes: 0, changedAt: 0, blockedAt: Number.NEGATIVE_INFINITY };
}

/** The checkpoint to run right after `mode` reported `status`, or null to wait for the next tick. */
export function planCheckpoint(state: CheckpointPlanState, mode: CheckpointMode, status: WalStatus, now: number): { state: CheckpointPlanState; next: CheckpointMode | null } {
  const restarted = status.logBytes < state.logBytes;
  const progressed = restarted || status.checkpointedBytes > state.checkpointedBytes;
  const next: CheckpointPlanState = {
    logBytes: status.logBytes,
    checkpointedBytes: status.checkpointedBytes,
    changedAt: status.logBytes === state.logBytes ? state.changedAt : now,
    blockedAt: mode !== 'PASSIVE' && status.busy ? now : state.blockedAt,
  };
  if (mode !== 'PASSIVE') return { state: next, next: null };
  const mayBlock = now - next.blockedAt >= BLOCKED_RETRY_MS;
  // RESTART leaves the restart itself to the next commit: while none comes, there is nothing to redo.
  if (status.logBytes >= HARD_WAL_BYTES && status.logBytes !== state.logBytes && mayBlock) return { state: next, next: 'RESTART' };
  // A report cannot see the commits made while its checkpoint ran, so chase while checkpoints
  // copy something; one held back by a reader (no progress) would only spin.
  if (status.logBytes >= SOFT_WAL_BYTES && progressed) return { state: next, next: 'PASSIVE' };
  if (status.logBytes > 0 && now - next.changedAt >= IDLE_MS && mayBlock) return { state: next, next: 'TRUNCATE' };
  return { state: next, next: null };
}
