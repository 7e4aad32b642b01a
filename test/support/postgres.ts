import { afterAll, beforeAll } from 'vitest';
import { createDatabase, dropDatabase, postgresMissing, startCluster, type PostgresCluster } from './postgres-cluster.js';
import { requireDependency } from './require-dependency.js';

/**
 * For `describe.runIf(await needPostgres())`: under CI=true a missing PostgreSQL fails the file
 * (.ci/run installs it and starts one cluster for the run); elsewhere the file is skipped, loudly.
 */
export const needPostgres = (): Promise<boolean> => requireDependency('PostgreSQL', postgresMissing);

export interface PostgresDatabase {
  /** The URL of this file's own, empty database, set before the file's tests run. */
  readonly url: string;
  /** The server the database is on (its `postgres` database may create more). */
  readonly serverUrl: string;
}

/**
 * A database of this test file's own on the run's cluster (DIALGUARD_TEST_POSTGRES_URL), or on a
 * cluster started for this file when the run has none; dropped (and that cluster stopped) after.
 */
export function usePostgresDatabase(): PostgresDatabase {
  let cluster: PostgresCluster | null = null;
  const state = { url: '', serverUrl: '' };
  beforeAll(async () => {
    const shared = process.env.DIALGUARD_TEST_POSTGRES_URL;
    if (shared) {
      state.serverUrl = shared;
    } else {
      cluster = await startCluster();
      state.serverUrl = cluster.url;
    }
    state.url = await createDatabase(state.serverUrl);
  }, 60_000);
  afterAll(async () => {
    if (state.url) await dropDatabase(state.url);
    cluster?.destroy();
  }, 60_000);
  return state;
}
