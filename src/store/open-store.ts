import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { redactUrl } from './postgres/redact-url.js';
import type { Store } from './roles/index.js';
import { createSqliteStore } from './sqlite/sqlite-store.js';

export interface StoreOptions {
  /** DIALGUARD_DB: a file path (SQLite, the embedded default) or a `postgres://` / `postgresql://` URL. */
  database: string;
  /** How long a write may wait for another guard's lock: below the answer deadline, so a busy database becomes a guard_error answer in time. */
  lockWaitMs: number;
  /** Added to a reservation's limit before it expires: ringing time comes before L() starts counting. */
  reservationGraceSeconds: number;
  /** A long-running server: background maintenance (SQLite: WAL checkpoints from a worker thread, audit retention) is on. */
  server?: boolean;
  /** With `server`: decisions (and their settlements, old alerts) older than this many days are pruned in the background; 0 keeps them. */
  auditRetentionDays?: number;
  /** Fail rather than create a database that is not there (dialguard doctor); a PostgreSQL database is never created. */
  mustExist?: boolean;
  logger?: Logger;
}

// Often enough to keep the WAL bounded at full load; a tick with nothing to copy costs microseconds.
export const CHECKPOINT_INTERVAL_MS = 100;

export const isPostgresUrl = (database: string): boolean => /^postgres(ql)?:\/\//i.test(database);

/** The one place that knows which database is behind the roles. */
export async function openStore(options: StoreOptions): Promise<Store> {
  if (isPostgresUrl(options.database)) {
    // Loaded only for a PostgreSQL site: the driver costs an SQLite guard a few MB for nothing.
    const { createPostgresStore } = await import('./postgres/postgres-store.js');
    return createPostgresStore({
      url: options.database,
      lockWaitMs: options.lockWaitMs,
      reservationGraceSeconds: options.reservationGraceSeconds,
      ...(options.server ? { auditRetentionDays: options.auditRetentionDays ?? 0 } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
    });
  }
  return createSqliteStore({
    path: options.database,
    busyTimeoutMs: options.lockWaitMs,
    reservationGraceSeconds: options.reservationGraceSeconds,
    ...(options.server ? { checkpointIntervalMs: CHECKPOINT_INTERVAL_MS, auditRetentionDays: options.auditRetentionDays ?? 0 } : {}),
    ...(options.mustExist ? { mustExist: true } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
}

/** DIALGUARD_DB as it may be shown and logged: a URL's password is never. */
export function describeDatabase(database: string): string {
  return isPostgresUrl(database) ? redactUrl(database) : database;
}

/** DIALGUARD_DB with a file path made absolute; a URL stays as it is (never a file named after it). */
export function absoluteDatabase(database: string): string {
  return isPostgresUrl(database) ? database : resolve(database);
}
