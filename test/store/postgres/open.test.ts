import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreError } from '../../../src/errors.js';
import { SCHEMA_VERSION } from '../../../src/store/postgres/migrations.js';
import { createPostgresStore } from '../../../src/store/postgres/postgres-store.js';
import { describeDatabase } from '../../../src/store/open-store.js';
import { needPostgres, usePostgresDatabase } from '../../support/postgres.js';
import { createDatabase, dropDatabase } from '../../support/postgres-cluster.js';

describe.runIf(await needPostgres())('opening the PostgreSQL store', () => {
  const server = usePostgresDatabase();
  let admin: pg.Client;
  beforeAll(async () => {
    admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
  });
  afterAll(() => admin?.end());

  it('several guards starting at once on an empty database: one migrates, every one opens', async () => {
    const url = await createDatabase(server.serverUrl);
    try {
      const stores = await Promise.all(Array.from({ length: 4 }, () => createPostgresStore({ url, lockWaitMs: 5000 })));
      await Promise.all(stores.map((s) => s.checkWritable()));
      await Promise.all(stores.map((s) => s.close()));
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      const { rows } = await client.query<{ version: number }>('SELECT version FROM dialguard_schema ORDER BY version');
      await client.end();
      expect(rows.map((r) => r.version)).toEqual(Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1));
    } finally {
      await dropDatabase(url);
    }
  });

  it('refuses a database that a newer dialguard migrated', async () => {
    const url = await createDatabase(server.serverUrl);
    try {
      await (await createPostgresStore({ url, lockWaitMs: 5000 })).close();
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query('INSERT INTO dialguard_schema (version, applied_at) VALUES ($1, 0)', [SCHEMA_VERSION + 1]);
      await client.end();
      await expect(createPostgresStore({ url, lockWaitMs: 5000 })).rejects.toThrow(`database schema version ${SCHEMA_VERSION + 1} is newer than this dialguard (${SCHEMA_VERSION}): upgrade dialguard`);
    } finally {
      await dropDatabase(url);
    }
  });

  it('a wrong password fails with the URL shown without any password', async () => {
    const url = new URL(server.url);
    const secret = 'not-the-password-4f2a';
    url.password = secret;
    const error = await createPostgresStore({ url: url.toString() }).then(
      () => null,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).message).toContain(`postgres://${url.username}:***@`);
    expect((error as StoreError).message).toContain('password authentication failed');
    expect((error as StoreError).message).not.toContain(secret);
    expect(describeDatabase(url.toString())).not.toContain(secret);
  });

  it('an integer beyond what a JavaScript number holds exactly is refused, never rounded', async () => {
    const store = await createPostgresStore({ url: server.url, lockWaitMs: 5000 });
    try {
      await admin.query(
        `INSERT INTO reservations (call_id, ext, e164, per_minute_micros, increment, minimum, day, month, reserved_seconds, reserved_micros, created_at, expires_at, status)
         VALUES ('huge', '1001', '+12125550123', 1, 60, 60, '2026-11-17', '2026-11', 60, 9007199254740993, 0, 0, 'active')`,
      );
      await expect(store.getReservation('huge')).rejects.toThrow('integer 9007199254740993 from PostgreSQL is beyond JavaScript');
      await admin.query(`UPDATE reservations SET reserved_micros = 9007199254740991 WHERE call_id = 'huge'`);
      expect((await store.getReservation('huge'))?.reservedMicros).toBe(Number.MAX_SAFE_INTEGER);
    } finally {
      await store.close();
    }
  });
});
