/**
 * A throwaway PostgreSQL cluster for the tests and the bench: `initdb` in a temporary folder,
 * `pg_ctl start` on a free loopback port with its unix socket in that folder, a login role with a
 * password (connections over TCP use scram-sha-256, as a real site's would), stopped and removed
 * at the end. PostgreSQL refuses to run as root: as root, every server command runs as the
 * `postgres` OS user (Debian's package creates it) and the folder is handed to it.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export interface PostgresCluster {
  /** `postgres://dialguard_test:PASSWORD@127.0.0.1:PORT/postgres`: may create databases. */
  url: string;
  port: number;
  dir: string;
  /** `pg_ctl stop` (fast): connections are cut, the data stays. */
  stop(): void;
  /** `pg_ctl start` again on the same port and data. */
  start(): void;
  /** Stops the server and removes the folder. */
  destroy(): void;
}

const ROLE = 'dialguard_test';

/** Debian installs each major version under /usr/lib/postgresql/N/bin; the newest one wins. */
export function postgresBinDir(): string | null {
  const explicit = process.env.DIALGUARD_TEST_POSTGRES_BIN;
  if (explicit) return existsSync(join(explicit, 'initdb')) ? explicit : null;
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(base, versions[0], 'bin') : null;
}

/** For requireDependency: what is missing when no cluster can be started here. */
export function postgresMissing(): string | null {
  if (process.env.DIALGUARD_TEST_POSTGRES_URL) return null;
  if (!postgresBinDir()) return 'no PostgreSQL server binaries under /usr/lib/postgresql/*/bin: apt-get install -y postgresql (or set DIALGUARD_TEST_POSTGRES_URL)';
  if (isRoot()) {
    try {
      execFileSync('id', ['-u', 'postgres'], { stdio: 'ignore' });
    } catch {
      return 'running as root and there is no `postgres` OS user to run the server as: apt-get install -y postgresql creates it';
    }
  }
  return null;
}

const isRoot = (): boolean => process.getuid?.() === 0;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface StartOptions {
  /** Leave the server running when this process exits (`scripts/ci/postgres.ts start` hands it to the shell). */
  keep?: boolean;
  /** PostgreSQL's own durability settings (the bench: what a site runs); the tests turn fsync off. */
  durable?: boolean;
}

export async function startCluster(options: StartOptions = {}): Promise<PostgresCluster> {
  const bin = postgresBinDir();
  if (!bin) throw new Error(postgresMissing() ?? 'no PostgreSQL');
  const dir = mkdtempSync(join(tmpdir(), 'dialguard-pg-'));
  const data = join(dir, 'data');
  chmodSync(dir, 0o700);
  if (isRoot()) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dir, uid, gid);
  }
  const run = serverCommand(bin, dir);
  run('initdb', ['-D', data, '-U', 'postgres', '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--no-locale', '--no-sync']);
  const port = await freePort();
  // A throwaway cluster for tests: durability off (fsync, full-page writes) so that a busy machine runs them quickly.
  const serverOptions = [
    `-p ${port}`,
    `-k ${dir}`,
    "-c listen_addresses='127.0.0.1'",
    '-c max_connections=300',
    ...(options.durable ? [] : ['-c shared_buffers=32MB', '-c fsync=off', '-c full_page_writes=off', '-c synchronous_commit=off']),
  ].join(' ');
  const start = (): void => run('pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '60', '-o', serverOptions, 'start']);
  const stop = (): void => stopServer(run, data);
  start();
  const destroy = (): void => {
    destroyClusterAt(dir);
    process.removeListener('exit', destroy);
  };
  // A test process that dies without its afterAll must not leave a server running.
  if (!options.keep) process.once('exit', destroy);

  const password = randomBytes(12).toString('hex');
  const admin = new pg.Client({ host: dir, port, user: 'postgres', database: 'postgres' });
  await admin.connect();
  try {
    await admin.query(`CREATE ROLE ${ROLE} LOGIN CREATEDB PASSWORD '${password}'`);
    // DROP DATABASE … WITH (FORCE) ends the database's other backends, an autovacuum worker among
    // them, which a plain role may not signal: a test file's clean-up failed on one that way.
    await admin.query(`GRANT pg_signal_backend TO ${ROLE}`);
  } finally {
    await admin.end();
  }
  return { url: `postgres://${ROLE}:${password}@127.0.0.1:${port}/postgres`, port, dir, stop, start, destroy };
}

function serverCommand(bin: string, dir: string): (command: string, args: string[]) => void {
  return (command, args) => {
    const [file, argv] = isRoot() ? ['runuser', ['-u', 'postgres', '--', join(bin, command), ...args]] : [join(bin, command), args];
    execFileSync(file, argv, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  };
}

function stopServer(run: (command: string, args: string[]) => void, data: string): void {
  try {
    run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
  } catch {
    // Already stopped.
  }
}

/** Stops the cluster started in `dir` (by this process or another) and removes the folder. */
export function destroyClusterAt(dir: string): void {
  const bin = postgresBinDir();
  if (bin && existsSync(join(dir, 'data'))) stopServer(serverCommand(bin, dir), join(dir, 'data'));
  rmSync(dir, { recursive: true, force: true });
}

/** A fresh, empty database on the server of `url`, owned by its role: one per test file, so that files run in parallel. */
export async function createDatabase(url: string, prefix = 'dialguard_test'): Promise<string> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const next = new URL(url);
  next.pathname = `/${name}`;
  return next.toString();
}

/** Drops a database made by createDatabase, cutting any connection left to it. */
export async function dropDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = target.pathname.slice(1);
  const maintenance = new URL(url);
  maintenance.pathname = '/postgres';
  const client = new pg.Client({ connectionString: maintenance.toString() });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}
