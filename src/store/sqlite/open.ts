import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { StoreError } from '../../errors.js';
import { migrate } from './migrations.js';

export interface OpenOptions {
  /** How long a writer waits for another process's lock. Must stay below the answer deadline. */
  busyTimeoutMs: number;
  /** Leave WAL checkpoints to a checkpointer (see checkpointer.ts) instead of the committing call. */
  manualCheckpoints?: boolean;
}

const WAL_SIZE_LIMIT_BYTES = 8 * 1024 * 1024;

export function openDatabase(path: string, options: OpenOptions): Database.Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  let db: Database.Database;
  try {
    db = new Database(path, { timeout: options.busyTimeoutMs });
  } catch (err) {
    throw new StoreError(`cannot open database ${path}: ${(err as Error).message}`, { cause: err });
  }
  db.pragma('journal_mode = WAL');
  // NORMAL in WAL mode loses at most the last commits on power loss, never consistency; FULL
  // would add an fsync to every decision.
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  // A restart reuses the WAL from its start but leaves the file at its largest: cut it back to this.
  db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
  if (options.manualCheckpoints) db.pragma('wal_autocheckpoint = 0');
  migrate(db);
  return db;
}
