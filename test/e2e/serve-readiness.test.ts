import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROBE_INTERVAL_MS } from '../../src/http/routes/health.js';
import { startServe, type ServeProcess } from '../support/serve-process.js';

let dir: string;
let serve: ServeProcess;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dialguard-ready-'));
  serve = await startServe(join(dir, 'dialguard.db'));
});
afterAll(async () => {
  await serve?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const readyz = async () => {
  const r = await fetch(`http://127.0.0.1:${serve.httpPort}/readyz`);
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
};

/** The running process's file size limit (RLIMIT_FSIZE, soft): no root needed, writes past it fail with EFBIG. */
function limitFileSize(value: string): void {
  const r = spawnSync('prlimit', ['--pid', String(serve.child.pid), `--fsize=${value}:`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`prlimit failed: ${r.stderr || r.error?.message}`);
}

describe('dialguard serve: readyz while its database cannot be written', () => {
  it('answers 503 with the reason while no file may grow, and 200 once it may again', async () => {
    expect(await readyz()).toMatchObject({ status: 200, body: { status: 'ready' } });
    limitFileSize('1');
    await sleep(PROBE_INTERVAL_MS);
    expect(await readyz()).toEqual({
      status: 503,
      body: { status: 'not ready', checks: { database: false, agi: true }, reasons: ['the database cannot be written: SQLITE_IOERR_WRITE: disk I/O error'] },
    });
    limitFileSize('unlimited');
    await sleep(PROBE_INTERVAL_MS);
    expect(await readyz()).toEqual({ status: 200, body: { status: 'ready', checks: { database: true, agi: true } } });
  });
});
