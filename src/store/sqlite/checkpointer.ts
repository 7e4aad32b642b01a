import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Database } from 'better-sqlite3';
import type { Logger } from 'pino';
import { initialPlanState, planCheckpoint, type CheckpointMode, type WalStatus } from './checkpoint-plan.js';

/**
 * WAL checkpoints off the hot path. SQLite's automatic checkpoint runs inside whichever commit
 * crosses the threshold, on the event loop, with an fsync: every few hundred decisions one call
 * waited for the disk. Here a worker thread with its own connection runs the PASSIVE checkpoints,
 * which copy nearly all of the WAL without ever blocking a writer, on a timer. The rare RESTART
 * and TRUNCATE that checkpoint-plan.ts asks for run on the writer's own connection, between two
 * transactions and without waiting: from the worker they would have to win the write lock from a
 * writer that hardly ever lets go of it, and the writer would then sleep in its busy handler.
 *
 * The worker is plain CommonJS source so that it runs the same from dist/ and under tsx. It is
 * given better-sqlite3's resolved path: an eval'd worker resolves bare names from the current
 * directory, which under systemd, a global install or npx is not this package.
 */
const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { timeout: 0 });
// A checkpoint copies WAL frames to the file without the page cache: keep none beyond the schema.
db.pragma('cache_size = -64');
parentPort.on('message', (message) => {
  if (message === 'stop') {
    db.close();
    parentPort.close();
    return;
  }
  try {
    parentPort.postMessage(db.pragma('wal_checkpoint(PASSIVE)')[0]);
  } catch (err) {
    parentPort.postMessage({ error: String((err && err.message) || err) });
  }
});
`;

const DRIVER = createRequire(import.meta.url).resolve('better-sqlite3');

/** A row of `PRAGMA wal_checkpoint`: counts of WAL frames. */
interface CheckpointRow {
  busy: number;
  log: number;
  checkpointed: number;
}

export interface Checkpointer {
  stop(): Promise<void>;
}

/** Checkpoints the WAL of `db` (the writer's connection, on file `path`) every `intervalMs`. */
export function startCheckpointer(db: Database, path: string, intervalMs: number, logger?: Logger): Checkpointer {
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, driver: DRIVER } });
  const frameBytes = (db.pragma('page_size', { simple: true }) as number) + 24;
  let state = initialPlanState();
  let passiveRunning = false;
  let stopping = false;
  let failing = false;

  const blocking = (mode: Exclude<CheckpointMode, 'PASSIVE'>): CheckpointRow => {
    const timeout = db.pragma('busy_timeout', { simple: true }) as number;
    db.pragma('busy_timeout = 0');
    try {
      return (db.pragma(`wal_checkpoint(${mode})`) as CheckpointRow[])[0] as CheckpointRow;
    } finally {
      db.pragma(`busy_timeout = ${timeout}`);
    }
  };

  const reported = (mode: CheckpointMode, reply: CheckpointRow | { error: string }): void => {
    if ('error' in reply) {
      // A failing checkpoint is retried on the next tick; say so once, not every tick.
      if (!failing) logger?.warn({ error: reply.error, mode }, 'WAL checkpoint failed; retrying on the next tick');
      failing = true;
      return;
    }
    failing = false;
    const status: WalStatus = { busy: reply.busy === 1, logBytes: reply.log * frameBytes, checkpointedBytes: reply.checkpointed * frameBytes };
    if (mode !== 'PASSIVE') logger?.debug({ mode, ...status }, 'WAL checkpoint');
    const plan = planCheckpoint(state, mode, status, Date.now());
    state = plan.state;
    if (stopping || plan.next === null) return;
    if (plan.next === 'PASSIVE') return passive();
    let row: CheckpointRow | { error: string };
    try {
      row = blocking(plan.next);
    } catch (err) {
      row = { error: (err as Error).message };
    }
    reported(plan.next, row);
  };
  const passive = (): void => {
    passiveRunning = true;
    worker.postMessage('checkpoint');
  };

  worker.on('message', (reply: CheckpointRow | { error: string }) => {
    passiveRunning = false;
    reported('PASSIVE', reply);
  });
  worker.on('error', (err) => logger?.error({ err }, 'WAL checkpoint worker failed'));
  const timer = setInterval(() => {
    if (!passiveRunning) passive();
  }, intervalMs);
  timer.unref();
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    stop() {
      stopping = true;
      clearInterval(timer);
      worker.postMessage('stop');
      return exited;
    },
  };
}
