import type { Logger } from 'pino';
import type { Config } from './config/config.js';
import { ConfigError, DialguardError } from './errors.js';
import { openGeoIp } from './geo/geoip.js';
import { createGuard, type Guard } from './guard/guard.js';
import { startRetention } from './store/sqlite/retention.js';
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
  /** A long-running server: checkpoint the WAL from a worker thread and prune the audit, both off the decision path. */
  server?: boolean;
  logger?: Logger;
  /** Fail rather than create a database that is not there (dialguard doctor). */
  existingDatabase?: boolean;
}

// Often enough to keep the WAL bounded at full load; a tick with nothing to copy costs microseconds.
export const CHECKPOINT_INTERVAL_MS = 100;

export async function openRuntime(config: Config, options: RuntimeOptions = {}): Promise<Runtime> {
  const { geoipPath } = config;
  const geoip = geoipPath === null ? openGeoIp() : fromSetting('DIALGUARD_GEOIP_DB', () => openGeoIp(geoipPath));
  const store = openStore(config, options);
  const guard = createGuard({ store, homeCountry: config.homeCountry, timezone: config.timezone, geoip });
  const retention = options.server ? startRetention({ path: config.dbPath, days: config.auditRetentionDays, logger: options.logger }) : null;
  const close = async (): Promise<void> => {
    await retention?.stop();
    await store.close();
  };
  return { config, store, guard, close };
}

/** The configured database, migrated: the store every command works on. */
export function openStore(config: Config, options: RuntimeOptions = {}): Store {
  return fromSetting('DIALGUARD_DB', () =>
    createSqliteStore({
      path: config.dbPath,
      // Leave the answer deadline room to send a guard_error DENY after a lock wait gave up.
      busyTimeoutMs: Math.max(10, Math.floor(config.answerDeadlineMs * 0.4)),
      reservationGraceSeconds: config.reservationGraceSeconds,
      ...(options.server ? { checkpointIntervalMs: CHECKPOINT_INTERVAL_MS } : {}),
      logger: options.logger,
      mustExist: options.existingDatabase,
    }),
  );
}

/**
 * Runs what a setting opens; its failure becomes a ConfigError that names the setting first
 * ("DIALGUARD_DB: cannot create the database folder /etc/passwd: …"), so that an operator
 * knows what to change.
 */
function fromSetting<T>(setting: string, open: () => T): T {
  try {
    return open();
  } catch (err) {
    if (err instanceof DialguardError) throw new ConfigError(`${setting}: ${err.message}`, err.details);
    throw err;
  }
}
