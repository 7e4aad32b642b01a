import { afterAll, beforeAll } from 'vitest';
import { createDatabase, dropDatabase, postgresMissing, startCluster, type PostgresCluster } from './postgres-cluster.js';
import { requireDependency } from './require-dependency.js';

/**
 * For `describe.runIf(await needPostgres())`: under CI=true a missing PostgreSQL fails the file
 * (.ci/run installs it and starts one cluster for the run); elsewhere the file is skipped, loudly.
 */
export const needPostgres = (): Promise<boolean> => requireDependency('PostgreSQL', postgresMissing);

export interface PostgresServer {
  /** A role on the run's (or this file's) server that may create databases, on its `postgres` database; set before the file's tests run. */
  readonly serverUrl: string;
}

export interface PostgresDatabase extends PostgresServer {
  /** The URL of this file's own, empty database, set before the file's tests run. */
  readonly url: string;
}

/**
 * The run's cluster (DIALGUARD_TEST_POSTGRES_URL, started by .ci/run), or a cluster started for
 * this file when the run has none (stopped after it).
 */
export function usePostgresServer(): PostgresServer {
  let cluster: PostgresCluster | null = null;
  const state = { serverUrl: '' };
  beforeAll(async () => {
    const shared = process.env.DIALGUARD_TEST_POSTGRES_URL;
    if (shared) {
      state.serverUrl = shared;
    } else {
      cluster = await startCluster();
      state.serverUrl = cluster.url;
    }
  }, 60_000);
  afterAll(() => cluster?.destroy(), 60_000);
  return state;
}

/** A database of this test file's own on usePostgresServer's server, dropped after the file. */
export function usePostgresDatabase(): PostgresDatabase {
  const server = usePostgresServer();
  const state = {
    url: '',
    get serverUrl(): string {
      return server.serverUrl;
    },
  };
  beforeAll(async () => {
    state.url = await createDatabase(server.serverUrl);
  }, 60_000);
  afterAll(async () => {
    if (state.url) await dropDatabase(state.url);
  }, 60_000);
  return state;
}
