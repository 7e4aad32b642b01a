/**
 * One throwaway PostgreSQL cluster for a whole test run (.ci/run):
 *   eval "$(node --import tsx scripts/ci/postgres.ts start)"   # exports DIALGUARD_TEST_POSTGRES_URL and _DIR
 *   node --import tsx scripts/ci/postgres.ts stop "$DIALGUARD_TEST_POSTGRES_DIR"
 * Each test file then creates its own database on it (test/support/postgres.ts).
 */
import { destroyClusterAt, startCluster } from '../../test/support/postgres-cluster.js';

const [command, dir] = process.argv.slice(2);
if (command === 'start') {
  const cluster = await startCluster({ keep: true });
  process.stdout.write(`export DIALGUARD_TEST_POSTGRES_URL='${cluster.url}'\nexport DIALGUARD_TEST_POSTGRES_DIR='${cluster.dir}'\n`);
} else if (command === 'stop' && dir) {
  destroyClusterAt(dir);
} else {
  process.stderr.write('usage: postgres.ts start | stop DIR\n');
  process.exit(2);
}
