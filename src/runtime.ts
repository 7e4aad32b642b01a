import type { Logger } from 'pino';
import type { Config } from './config/config.js';
import type { SourceReputation } from './domain/security.js';
import { ConfigError, DialguardError } from './errors.js';
import { openGeoIp } from './geo/geoip.js';
import { createGuard, type Guard } from './guard/guard.js';
import { ReputationTracker } from './intrusion/reputation.js';
import { openStore as openDatabaseStore } from './store/open-store.js';
import type { Store } from './store/roles/index.js';

/** The long-lived objects every command needs, built from the configuration. */
export interface Runtime {
  config: Config;
  /** Every role of the one database; hand each part of the program only the roles it uses. */
  store: Store;
  guard: Guard;
  /** What Asterisk's security events say about each source (src/intrusion): the feeds fill it, the guard reads it. */
  reputation: ReputationTracker;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  /** A long-running server: the store's background maintenance (WAL checkpoints, audit retention) is on, off the decision path. */
  server?: boolean;
  logger?: Logger;
  /** Fail rather than create a database that is not there (dialguard doctor). */
  existingDatabase?: boolean;
  /** The source reputation the guard reads (fed by the security events); default: no source has failures. */
  reputation?: SourceReputation;
}

export async function openRuntime(config: Config, options: RuntimeOptions = {}): Promise<Runtime> {
  const { geoipPath } = config;
  const geoip = geoipPath === null ? openGeoIp() : await fromSetting('DIALGUARD_GEOIP_DB', () => openGeoIp(geoipPath));
  let store: Store;
  try {
    store = await openStore(config, options);
  } catch (err) {
    geoip.close();
    throw err;
  }
  // One GeoIP database open for the guard and the tracker.
  const reputation = new ReputationTracker({ country: (address) => geoip.country(address) });
  const guard = createGuard({ store, homeCountry: config.homeCountry, timezone: config.timezone, geoip, reputation: options.reputation ?? reputation });
  return {
    config,
    store,
    guard,
    reputation,
    close: async () => {
      await store.close();
      geoip.close();
    },
  };
}

/** The configured database, migrated: the store every command works on. */
export function openStore(config: Config, options: RuntimeOptions = {}): Promise<Store> {
  return fromSetting('DIALGUARD_DB', () =>
    openDatabaseStore({
      database: config.dbPath,
      // Leave the answer deadline room to send a guard_error DENY after a lock wait gave up.
      lockWaitMs: Math.max(10, Math.floor(config.answerDeadlineMs * 0.4)),
      reservationGraceSeconds: config.reservationGraceSeconds,
      server: options.server === true,
      auditRetentionDays: config.auditRetentionDays,
      ...(options.existingDatabase ? { mustExist: true } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
    }),
  );
}

/**
 * Runs what a setting opens; its failure becomes a ConfigError that names the setting first
 * ("DIALGUARD_DB: cannot create the database folder /etc/passwd: …"), so that an operator
 * knows what to change.
 */
async function fromSetting<T>(setting: string, open: () => T | Promise<T>): Promise<T> {
  try {
    return await open();
  } catch (err) {
    if (err instanceof DialguardError) throw new ConfigError(`${setting}: ${err.message}`, err.details);
    throw err;
  }
}
