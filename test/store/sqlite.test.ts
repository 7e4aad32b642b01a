import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeStoreContract } from './contract/index.js';

/** A fresh SQLite file in its own temporary folder: DIALGUARD_DB is its path. */
describeStoreContract('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dialguard-contract-'));
  return {
    database: join(dir, 'dialguard.db'),
    destroy: async () => rmSync(dir, { recursive: true, force: true }),
  };
});
