import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';

/**
 * WAL checkpoints off the hot path. SQLite's automatic checkpoint runs inside whichever commit
 * crosses the threshold, on the event loop, with an fsync: every few hundred decisions one call
 * waited for the disk. Here a worker thread with its own connection checkpoints on a timer;
 * PASSIVE never waits for or blocks a writer.
 *
 * The worker is plain CommonJS source so that it runs the same from dist/ and under tsx.
 */
const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const Database = require('better-sqlite3');
const db = new Database(workerData.path, { timeout: 0 });
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (err) {
    parentPort.postMessage({ error: String(err && err.message || err) });
  }
}, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {}
  db.close();
  parentPort.close();
});
`;

export interface Checkpointer {
  stop(): Promise<void>;
}

export function startCheckpointer(path: string, intervalMs: number, logger?: Logger): Checkpointer {
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, intervalMs } });
  let reported = false;
  worker.on('message', (message: { error?: string }) => {
    // A busy checkpoint is retried on the next tick; say so once, not every second.
    if (message.error && !reported) {
      reported = true;
      logger?.warn({ error: message.error }, 'WAL checkpoint failed; retrying on the next tick');
    }
  });
  worker.on('error', (err) => logger?.error({ err }, 'WAL checkpoint worker failed'));
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    stop() {
      worker.postMessage('stop');
      return exited;
    },
  };
}
