/**
 * Another guard process's admin write: opens the database (DIALGUARD_DB, any store `openStore`
 * knows), locks one extension, closes and exits.
 */
import { openStore } from '../../src/store/open-store.js';

const [database, ext] = process.argv.slice(2) as [string, string];
const store = await openStore({ database, lockWaitMs: 5000, reservationGraceSeconds: 300 });
await store.lock(ext, 'locked by another process', 'test');
await store.close();
