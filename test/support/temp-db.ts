import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openGeoIp } from '../../src/geo/geoip.js';
import { createGuard, type Guard } from '../../src/guard/guard.js';
import type { PolicyDocument } from '../../src/policy/document.js';
import { validateDocument } from '../../src/policy/document.js';
import { createSqliteStore, type SqliteStoreOptions } from '../../src/store/sqlite/sqlite-store.js';
import type { Store } from '../../src/store/roles/index.js';

export interface TempGuard {
  dir: string;
  dbPath: string;
  store: Store;
  guard: Guard;
  close(): Promise<void>;
}

/** A real SQLite file in a fresh temporary folder, with a guard on it (US site, New York time). */
export async function tempGuard(doc?: PolicyDocument, options: Partial<SqliteStoreOptions> = {}): Promise<TempGuard> {
  const dir = mkdtempSync(join(tmpdir(), 'dialguard-test-'));
  const dbPath = join(dir, 'dialguard.db');
  const store = createSqliteStore({ path: dbPath, ...options });
  if (doc) await store.importDocument(validateDocument(doc), 'test', () => undefined);
  const guard = createGuard({ store, homeCountry: 'US', timezone: 'America/New_York', geoip: openGeoIp() });
  return {
    dir,
    dbPath,
    store,
    guard,
    async close() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
