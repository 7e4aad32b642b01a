import { accessSync, constants, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { causeText, StoreError } from '../../errors.js';
import { migrate } from './migrations.js';

export interface OpenOptions {
  /** How long a writer waits for another process's lock. Must stay below the answer deadline. */
  busyTimeoutMs: number;
  /** Leave WAL checkpoints to a checkpointer (see checkpointer.ts) instead of the committing call. */
  manualCheckpoints?: boolean;
  /** Refuse to create the file: a check (dialguard doctor) must not leave a new database behind. */
  mustExist?: boolean;
}

const WAL_SIZE_LIMIT_BYTES = 8 * 1024 * 1024;
/**
 * Pages of a new database. A decision dirties a page in each of several trees keyed by extension
 * (its decisions, reservations, velocity, totals), and the commit writes every dirty page whole
 * to the WAL (and the checkpoint again to the file): 2 KB pages cost about 15% less CPU a
 * decision than SQLite's 4 KB with 2,000 extensions calling in turn (measured interleaved in one
 * process); 1 KB pages make the trees deeper and cost more again. An existing file keeps its size.
 */
const PAGE_SIZE_BYTES = 2048;
/**
 * Each connection's page cache, in KiB. better-sqlite3 builds SQLite with 16 MB a connection,
 * which a decision load fills within seconds and which then stays resident; what the decision
 * path touches again (the right edges of the audit's trees, the extensions' pages) fits in a few
 * MB, and a page read past the cache comes from the OS's cache of the file (a bench-like run of
 * serve: about 13 MB less memory outside the V8 heap, the same CPU a decision within noise).
 */
const CACHE_KIB = 2048;

/**
 * Opens (creating it and its folder if need be) and migrates the database. Every failure is a
 * StoreError of one line naming the file or folder and the cause.
 */
export function openDatabase(path: string, options: OpenOptions): Database.Database {
  const folder = dirname(path);
  if (options.mustExist && path !== ':memory:' && !existsSync(path)) throw new StoreError(`no database at ${path} (dialguard init creates one)`);
  if (path !== ':memory:') {
    try {
      mkdirSync(folder, { recursive: true });
    } catch (err) {
      throw new StoreError(`cannot create the database folder ${folder}: ${causeText(err)}`, { cause: err });
    }
  }
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { timeout: options.busyTimeoutMs, fileMustExist: options.mustExist === true });
    // Only a file without tables takes it (before WAL mode); otherwise SQLite ignores it.
    db.pragma(`page_size = ${PAGE_SIZE_BYTES}`);
    db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode loses at most the last commits on power loss, never consistency; FULL
    // would add an fsync to every decision.
    db.pragma('synchronous = NORMAL');
    db.pragma(`cache_size = -${CACHE_KIB}`);
    db.pragma('foreign_keys = ON');
    // A restart reuses the WAL from its start but leaves the file at its largest: cut it back to this.
    db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
    if (options.manualCheckpoints) db.pragma('wal_autocheckpoint = 0');
    migrate(db);
    return db;
  } catch (err) {
    db?.close();
    if (err instanceof StoreError) throw err;
    throw new StoreError(`cannot open the database ${path}: ${causeText(err)}${folderProblem(folder)}`, { cause: err });
  }
}

/**
 * SQLite says "unable to open database file" whether the folder is read-only, not ours or
 * gone; WAL mode needs to create files beside the database, so the folder's own answer names
 * the cause.
 */
function folderProblem(folder: string): string {
  try {
    accessSync(folder, constants.W_OK);
    return '';
  } catch (err) {
    return ` (its folder: ${causeText(err)})`;
  }
}
