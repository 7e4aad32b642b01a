import type { Logger } from 'pino';
import type { Config } from './config/config.js';
import { openGeoIp } from './geo/geoip.js';
import { createGuard, type Guard } from './guard/guard.js';
import { createSqliteStore } from './store/sqlite/sqlite-store.js';
import type { Store } from './store/store.js';

/** The long-lived objects every command needs, built from the configuration. */
export interface Runtime {
  config: Config;
  store: Store;
  guard: Guard;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  /** A long-running server: checkpoint the WAL from a worker thread, off the decision path. */
  server?: boolean;
  logger?: Logger;
  /** Fail rather than create a database that is not there (dialguard doctor). */
  existingDatabase?: boolean;
}

export const CHECKPOINT_INTERVAL_MS = 1000;

export async function openRuntime(config: Config, options: RuntimeOptions = {}): Promise<Runtime> {
  const geoip = await openGeoIp(config.geoipPath ?? undefined);
  const store = openStore(config, options);
  const guard = createGuard({ store, homeCountry: config.homeCountry, timezone: config.timezone, geoip });
  return { config, store, guard, close: () => store.close() };
}

/** The configured database, migrated: the store every command works on. */
export function openStore(config: Config, options: RuntimeOptions = {}): Store {
  return createSqliteStore({
    path: config.dbPath,
    // Leave the answer deadline room to send a guard_error DENY after a lock wait gave up.
    busyTimeoutMs: Math.max(10, Math.floor(config.answerDeadlineMs * 0.4)),
    reservationGraceSeconds: config.reservationGraceSeconds,
    ...(options.server ? { checkpointIntervalMs: CHECKPOINT_INTERVAL_MS } : {}),
    logger: options.logger,
    mustExist: options.existingDatabase,
  });
}
