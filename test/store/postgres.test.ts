import { describe } from 'vitest';
import { needPostgres, usePostgresServer } from '../support/postgres.js';
import { createDatabase, dropDatabase } from '../support/postgres-cluster.js';
import { describeStoreContract } from './contract/index.js';

/** A fresh database on the test server for every test: DIALGUARD_DB is its postgres:// URL. */
describe.runIf(await needPostgres())('PostgreSQL', () => {
  const server = usePostgresServer();
  describeStoreContract('PostgreSQL', async () => {
    const database = await createDatabase(server.serverUrl);
    return { database, destroy: () => dropDatabase(database) };
  });
});
