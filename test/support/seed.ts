import { validateDocument } from '../../src/policy/document.js';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/roles/index.js';

/** The store of a DIALGUARD_DB value (a SQLite file path or a postgres:// URL), as `dialguard` opens it. */
async function withStore(database: string, work: (store: Store) => Promise<unknown>): Promise<void> {
  const store = await openStore({ database, lockWaitMs: 5000, reservationGraceSeconds: 300 });
  try {
    await work(store);
  } finally {
    await store.close();
  }
}

/** Writes a policy document into a database, as `dialguard policy import` would. */
export function seedPolicy(database: string, doc: unknown): Promise<void> {
  return withStore(database, (store) => store.importDocument(validateDocument(doc), 'test', () => undefined));
}

export function lockExtension(database: string, ext: string, reason: string): Promise<void> {
  return withStore(database, (store) => store.lock(ext, reason, 'test'));
}
