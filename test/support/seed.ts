import { validateDocument } from '../../src/policy/document.js';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.js';

/** Writes a policy document into a database file, as `dialguard policy import` would. */
export function seedPolicy(dbPath: string, doc: unknown): void {
  const store = createSqliteStore({ path: dbPath });
  try {
    store.importDocument(validateDocument(doc), 'test');
  } finally {
    store.close();
  }
}

export function lockExtension(dbPath: string, ext: string, reason: string): void {
  const store = createSqliteStore({ path: dbPath });
  try {
    store.lock(ext, reason, 'test');
  } finally {
    store.close();
  }
}
