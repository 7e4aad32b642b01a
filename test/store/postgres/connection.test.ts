import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreError } from '../../../src/errors.js';
import { createPool, run, transaction } from '../../../src/store/postgres/connection.js';
import { needPostgres, usePostgresDatabase } from '../../support/postgres.js';

/** The one transaction helper of the PostgreSQL store: pipelined statements, and what happens when one fails. */
describe.runIf(await needPostgres())('PostgreSQL transactions', () => {
  const database = usePostgresDatabase();
  let pool: pg.Pool;
  const rows = async (): Promise<number[]> => (await pool.query<{ n: number }>('SELECT n FROM t ORDER BY n')).rows.map((r) => r.n);

  beforeAll(async () => {
    pool = createPool({ url: database.url, connectTimeoutMs: 5000, size: 2 });
    await pool.query('CREATE TABLE t (n integer PRIMARY KEY)');
  });
  afterAll(() => pool?.end());

  it('commits what was deferred, in the order it was sent', async () => {
    await transaction(pool, async (client, defer) => {
      defer(run(client, 'INSERT INTO t VALUES (1)'));
      defer(run(client, 'INSERT INTO t VALUES (2)'));
    });
    expect(await rows()).toEqual([1, 2]);
    await pool.query('DELETE FROM t');
  });

  it('a deferred statement that failed on this side stops the COMMIT: nothing is written', async () => {
    await expect(
      transaction(pool, async (client, defer) => {
        defer(run(client, 'INSERT INTO t VALUES (3)'));
        defer(Promise.reject(new Error('out of range')));
      }),
    ).rejects.toThrow('out of range');
    expect(await rows()).toEqual([]);
  });

  it('a deferred statement the server refuses rolls everything back', async () => {
    await expect(
      transaction(pool, async (client, defer) => {
        defer(run(client, 'INSERT INTO t VALUES (4)'));
        defer(run(client, 'INSERT INTO t VALUES (4)'));
      }),
    ).rejects.toThrow(StoreError);
    expect(await rows()).toEqual([]);
  });

  it('a connection cut in the middle of a transaction is dropped, and the next transaction works', async () => {
    const killer = new pg.Client({ connectionString: database.url });
    await killer.connect();
    try {
      await expect(
        transaction(pool, async (client) => {
          const [{ pid }] = (await run<{ pid: number }>(client, 'SELECT pg_backend_pid() AS pid')) as [{ pid: number }];
          await run(client, 'INSERT INTO t VALUES (5)');
          await killer.query('SELECT pg_terminate_backend($1)', [pid]);
          await run(client, 'INSERT INTO t VALUES (6)');
        }),
      ).rejects.toThrow(StoreError);
      await transaction(pool, async (client) => void (await run(client, 'INSERT INTO t VALUES (7)')));
      expect(await rows()).toEqual([7]);
    } finally {
      await killer.end();
    }
  });
});
