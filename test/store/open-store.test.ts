import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { describeDatabase, openStore } from '../../src/store/open-store.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dialguard-open-store-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const options = (database: string) => ({ database, lockWaitMs: 200, reservationGraceSeconds: 300 });

describe('DIALGUARD_DB picks the store', () => {
  it('a file path is SQLite', async () => {
    const store = await openStore(options(join(dir, 'dialguard.db')));
    try {
      expect((await store.loadPolicySet()).version).toBe(0);
      await store.checkWritable();
    } finally {
      await store.close();
    }
    expect(existsSync(join(dir, 'dialguard.db'))).toBe(true);
  });

  it.each(['postgres://dialguard:s3cret@db.example:5432/dialguard', 'postgresql://db.example/dialguard', 'POSTGRES://db.example/dialguard'])(
    'a PostgreSQL URL (%s) is refused with a ConfigError until that store exists, and no file is made',
    async (url) => {
      await expect(openStore(options(url))).rejects.toMatchObject({ code: 'DG_CONFIG', message: expect.stringContaining('PostgreSQL store not available') });
      // A URL must never become an SQLite file named after it.
      expect(existsSync('postgres:')).toBe(false);
      expect(existsSync('postgresql:')).toBe(false);
    },
  );

  it('a command given a PostgreSQL URL says so in one line naming DIALGUARD_DB, without the password', async () => {
    const err: string[] = [];
    const status = await main(['--db', 'postgres://dialguard:s3cret@db.example/dialguard', 'token', 'list'], { out: () => undefined, err: (t) => err.push(t) });
    expect(status).toBe(2);
    expect(err).toEqual(['dialguard: DIALGUARD_DB: PostgreSQL store not available in this build (a file path selects SQLite)']);
    expect(existsSync('postgres:')).toBe(false);
  });

  it('shows a URL without its password, and a path as it is', () => {
    expect(describeDatabase('postgres://dialguard:s3cret@db.example:5432/dialguard')).toBe('postgres://dialguard:***@db.example:5432/dialguard');
    expect(describeDatabase('postgres://db.example/dialguard')).toBe('postgres://db.example/dialguard');
    expect(describeDatabase('/var/lib/dialguard/dialguard.db')).toBe('/var/lib/dialguard/dialguard.db');
  });
});
