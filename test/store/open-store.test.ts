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

  // 127.0.0.1:1 refuses at once: which store was opened shows in what fails, with no server and no DNS.
  it.each(['postgres://dialguard:s3cret@127.0.0.1:1/dialguard', 'postgresql://dialguard:s3cret@127.0.0.1:1/dialguard', 'POSTGRES://dialguard:s3cret@127.0.0.1:1/dialguard'])(
    'a PostgreSQL URL (%s) opens the PostgreSQL store, and no file is made',
    async (url) => {
      const error = await openStore(options(url)).then(
        () => null,
        (err: unknown) => err as Error & { code: string },
      );
      expect(error).toMatchObject({ code: 'DG_STORE', message: expect.stringMatching(/^cannot open database postgres(ql)?:\/\/dialguard:\*\*\*@127\.0\.0\.1:1\/dialguard: connect ECONNREFUSED/i) });
      expect(error?.message).not.toContain('s3cret');
      // A URL must never become an SQLite file named after it.
      expect(existsSync('postgres:')).toBe(false);
      expect(existsSync('postgresql:')).toBe(false);
    },
  );

  it('a command given a PostgreSQL URL it cannot reach says so in one line naming DIALGUARD_DB, without the password', async () => {
    const err: string[] = [];
    const status = await main(['--db', 'postgres://dialguard:s3cret@127.0.0.1:1/dialguard', 'token', 'list'], { out: () => undefined, err: (t) => err.push(t) });
    expect(status).toBe(2);
    expect(err).toEqual(['dialguard: DIALGUARD_DB: cannot open database postgres://dialguard:***@127.0.0.1:1/dialguard: connect ECONNREFUSED 127.0.0.1:1']);
    expect(existsSync('postgres:')).toBe(false);
  });

  it('shows a URL without its password, and a path as it is', () => {
    expect(describeDatabase('postgres://dialguard:s3cret@db.example:5432/dialguard')).toBe('postgres://dialguard:***@db.example:5432/dialguard');
    expect(describeDatabase('postgres://db.example/dialguard')).toBe('postgres://db.example/dialguard');
    expect(describeDatabase('/var/lib/dialguard/dialguard.db')).toBe('/var/lib/dialguard/dialguard.db');
  });
});
