import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { StoreError } from '../../errors.js';
import { migrate } from './migrations.js';

export interface OpenOptions {
  /** How long a writer waits for another process's lock. Must stay below the answer deadline. */
  busyTimeoutMs: number;
  /** Leave WAL checkpoints to a checkpointer (see checkpointer.ts) instead of the committing call. */
  manualCheckpoints?: boolean;
  /** Refuse to create the file: a check (dialguard doctor) must not leave a new database behind. */
  mustExist?: boolean;
}

export function openDatabase(path: string, options: OpenOptions): Database.Database {
  if (options.mustExist && path !== ':memory:' && !existsSync(path)) throw new StoreError(`no database at ${path} (dialguard init creates one)`);
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  let db: Database.Database;
  try {
    db = new Database(path, { timeout: options.busyTimeoutMs, fileMustExist: options.mustExist === true });
  } catch (err) {
    throw new StoreError(`cannot open database ${path}: ${(err as Error).message}`, { cause: err });
  }
  db.pragma('journal_mode = WAL');
  // NORMAL in WAL mode loses at most the last commits on power loss, never consistency; FULL
  // would add an fsync to every decision.
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  if (options.manualCheckpoints) db.pragma('wal_autocheckpoint = 0');
  migrate(db);
  return db;
}
