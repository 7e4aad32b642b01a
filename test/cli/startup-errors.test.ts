import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { repoRoot } from '../support/captures.js';
import { mountTmpfs, type Tmpfs } from '../support/tmpfs.js';

const BIN = resolve(repoRoot, 'src/cli/bin.ts');
/** Longer than any failing start takes; a serve still running then has not failed at all. */
const START_TIMEOUT_MS = 20_000;

let dir: string;
let disk: Tmpfs | undefined;
let busy: Server | undefined;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dialguard-start-'));
});
afterEach(async () => {
  disk?.unmount();
  if (busy) await new Promise((done) => busy?.close(done));
  disk = busy = undefined;
  rmSync(dir, { recursive: true, force: true });
});

/** `dialguard serve` as a real process; resolves with its exit status and what it printed on stderr. */
async function serve(env: Record<string, string>, args: string[] = []): Promise<{ status: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', BIN, ...args, 'serve'], {
    cwd: repoRoot,
    env: {
      ...process.env,
      DIALGUARD_DB: join(dir, 'dialguard.db'),
      DIALGUARD_AGI_LISTEN: '127.0.0.1:0',
      DIALGUARD_HTTP_LISTEN: '127.0.0.1:0',
      DIALGUARD_HOME_COUNTRY: 'US',
      DIALGUARD_TIMEZONE: 'America/New_York',
      ...env,
    },
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.resume();
  const timer = setTimeout(() => child.kill('SIGKILL'), START_TIMEOUT_MS);
  const [status] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { status, stderr };
}

/** Exit status 2 and one line on stderr, starting with the setting at fault. */
function expectOneLine(result: { status: number | null; stderr: string }, line: RegExp): void {
  expect(result.stderr.endsWith('\n'), result.stderr).toBe(true);
  expect(result.stderr.trimEnd().split('\n'), result.stderr).toHaveLength(1);
  expect(result.stderr.trimEnd()).toMatch(line);
  expect(result.status).toBe(2);
}

async function portInUse(): Promise<number> {
  busy = createServer();
  busy.listen(0, '127.0.0.1');
  await once(busy, 'listening');
  return (busy.address() as { port: number }).port;
}

describe('dialguard serve: a start-up failure is one line naming the setting, and exit status 2', () => {
  it('a database path under a regular file', async () => {
    expectOneLine(
      await serve({ DIALGUARD_DB: '/etc/passwd/x.db' }),
      /^dialguard: DIALGUARD_DB: cannot create the database folder \/etc\/passwd: EEXIST: file already exists$/,
    );
    expectOneLine(
      await serve({ DIALGUARD_DB: '/etc/passwd/data/x.db' }),
      /^dialguard: DIALGUARD_DB: cannot create the database folder \/etc\/passwd\/data: ENOTDIR: not a directory$/,
    );
  });

  it('a database file that is not a database', async () => {
    writeFileSync(join(dir, 'notes.txt'), 'not a database, just some text that is long enough to be read as a header\n'.repeat(20));
    expectOneLine(
      await serve({ DIALGUARD_DB: join(dir, 'notes.txt') }),
      /^dialguard: DIALGUARD_DB: cannot open the database \/.*\/notes\.txt: SQLITE_NOTADB: file is not a database$/,
    );
  });

  it('a database on a read-only mount, existing or new (needs root to mount)', async () => {
    disk = mountTmpfs(4 * 1024 * 1024);
    const existing = join(disk.dir, 'dialguard.db');
    await createSqliteStore({ path: existing }).close();
    disk.remount('ro');
    expectOneLine(
      await serve({ DIALGUARD_DB: existing }),
      /^dialguard: DIALGUARD_DB: cannot open the database \/.*\/dialguard\.db: SQLITE_CANTOPEN: unable to open database file \(its folder: EROFS: read-only file system\)$/,
    );
    expectOneLine(await serve({ DIALGUARD_DB: join(disk.dir, 'new.db') }), /^dialguard: DIALGUARD_DB: cannot open the database \/.*\/new\.db: .*EROFS: read-only file system\)$/);
    expectOneLine(await serve({ DIALGUARD_DB: join(disk.dir, 'data', 'new.db') }), /^dialguard: DIALGUARD_DB: cannot create the database folder \/.*\/data: /);
  });

  it('an AMI URL that is not tcp://USER:SECRET@HOST:PORT, shown without its secret', async () => {
    const result = await serve({ DIALGUARD_AMI_URL: 'http://dgsec:TOPSECRET@127.0.0.1:5038' });
    expectOneLine(result, /^dialguard: DIALGUARD_AMI_URL: "http:\/\/127\.0\.0\.1:5038" is not tcp:\/\/USER:SECRET@HOST:PORT \(e\.g\. tcp:\/\/dialguard:secret@127\.0\.0\.1:5038\)$/);
    expect(result.stderr).not.toContain('TOPSECRET');
  });

  it('the FastAGI port in use', async () => {
    const port = await portInUse();
    expectOneLine(
      await serve({ DIALGUARD_AGI_LISTEN: `127.0.0.1:${port}` }),
      new RegExp(`^dialguard: DIALGUARD_AGI_LISTEN: cannot listen on 127\\.0\\.0\\.1:${port}: EADDRINUSE: address already in use$`),
    );
  });

  it('the HTTP port in use', async () => {
    const port = await portInUse();
    expectOneLine(
      await serve({ DIALGUARD_HTTP_LISTEN: `127.0.0.1:${port}` }),
      new RegExp(`^dialguard: DIALGUARD_HTTP_LISTEN: cannot listen on 127\\.0\\.0\\.1:${port}: EADDRINUSE: address already in use$`),
    );
  });

  it('an address that is not this host’s', async () => {
    expectOneLine(
      await serve({ DIALGUARD_AGI_LISTEN: '192.0.2.1:4573' }),
      /^dialguard: DIALGUARD_AGI_LISTEN: cannot listen on 192\.0\.2\.1:4573: EADDRNOTAVAIL: address not available$/,
    );
  });

  it('a missing or broken config file, named by how it was given', async () => {
    expectOneLine(
      await serve({ DIALGUARD_CONFIG: join(dir, 'missing.json') }),
      /^dialguard: DIALGUARD_CONFIG: cannot read the config file \/.*\/missing\.json: ENOENT: no such file or directory$/,
    );
    writeFileSync(join(dir, 'broken.json'), '{ "db": ');
    expectOneLine(await serve({}, ['--config', join(dir, 'broken.json')]), /^dialguard: --config: the config file \/.*\/broken\.json is not valid JSON: /);
  });

  it('bad values in the environment', async () => {
    expectOneLine(await serve({ DIALGUARD_LOG_LEVEL: 'loud' }), /^dialguard: DIALGUARD_LOG_LEVEL="loud" is not a log level \(fatal, error, warn, info, debug, trace, silent\)$/);
    expectOneLine(await serve({ DIALGUARD_HOME_COUNTRY: 'XX' }), /^dialguard: DIALGUARD_HOME_COUNTRY="XX" is not an ISO 3166 alpha-2 code with a numbering plan$/);
    expectOneLine(await serve({ DIALGUARD_GEOIP_DB: join(dir, 'none.mmdb') }), /^dialguard: DIALGUARD_GEOIP_DB: cannot read the GeoIP database \/.*\/none\.mmdb: ENOENT: no such file or directory$/);
  });
});
