import { createDatabase, dropDatabase, startCluster } from '../../test/support/postgres-cluster.js';

export interface BenchDatabase {
  url: string;
  close(): Promise<void>;
}

/**
 * The bench's PostgreSQL database: on BENCH_POSTGRES_URL's server (a role that may create
 * databases), or on a throwaway cluster of this machine with PostgreSQL's own durability
 * settings (every commit flushed), as a site runs it.
 */
export async function benchDatabase(): Promise<BenchDatabase> {
  const given = process.env.BENCH_POSTGRES_URL;
  const cluster = given ? null : await startCluster({ durable: true });
  const url = await createDatabase(given ?? (cluster?.url as string), 'dialguard_bench');
  return {
    url,
    async close() {
      await dropDatabase(url);
      cluster?.destroy();
    },
  };
}
