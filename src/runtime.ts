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
  close(): void;
}

export async function openRuntime(config: Config): Promise<Runtime> {
  const geoip = await openGeoIp(config.geoipPath ?? undefined);
  const store = createSqliteStore({
    path: config.dbPath,
    // Leave the answer deadline room to send a guard_error DENY after a lock wait gave up.
    busyTimeoutMs: Math.max(10, Math.floor(config.answerDeadlineMs * 0.4)),
    reservationGraceSeconds: config.reservationGraceSeconds,
  });
  const guard = createGuard({ store, homeCountry: config.homeCountry, timezone: config.timezone, geoip });
  return { config, store, guard, close: () => store.close() };
}
