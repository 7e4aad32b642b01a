import { validateDocument } from '../../src/policy/document.js';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.js';

/** Writes a policy document into a database file, as `dialguard policy import` would. */
export async function seedPolicy(dbPath: string, doc: unknown): Promise<void> {
  const store = createSqliteStore({ path: dbPath });
  try {
    await store.importDocument(validateDocument(doc), 'test', () => undefined);
  } finally {
    await store.close();
  }
}

export async function lockExtension(dbPath: string, ext: string, reason: string): Promise<void> {
  const store = createSqliteStore({ path: dbPath });
  try {
    await store.lock(ext, reason, 'test');
  } finally {
    await store.close();
  }
}
