import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { authorizeEnv, playAsteriskSession } from '../support/asterisk-agi.js';
import { startServe, type ServeProcess } from '../support/serve-process.js';

/** The database of a long-running `dialguard serve`, as a site runs it: started from anywhere. */
let dirs: string[] = [];
let serve: ServeProcess | undefined;
const tempDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'dialguard-e2e-db-'));
  dirs.push(dir);
  return dir;
};
afterEach(async () => {
  await serve?.stop();
  serve = undefined;
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs = [];
});

const walSize = (dbPath: string): number => (existsSync(`${dbPath}-wal`) ? statSync(`${dbPath}-wal`).size : 0);

async function calls(port: number, total: number, inFlight: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < total) {
      const i = next++;
      await playAsteriskSession({ port, env: authorizeEnv({ ext: `${1000 + (i % 40)}`, number: '12125550123', source: '10.0.0.5:5060', origin: 'phone', uniqueid: `1795264997.${i}` }) });
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
}

describe('dialguard serve started outside the package folder (systemd WorkingDirectory, npx)', () => {
  it('checkpoints the WAL: no worker failure is logged, and the WAL is truncated once the calls stop', { timeout: 60_000 }, async () => {
    const dbPath = join(tempDir(), 'dialguard.db');
    serve = await startServe(dbPath, {}, { cwd: tempDir() });
    await calls(serve.agiPort, 600, 8);
    expect(walSize(dbPath)).toBeGreaterThan(0);

    // Idle for a second after the last commit, the checkpointer truncates the WAL.
    const deadline = Date.now() + 10_000;
    while (walSize(dbPath) > 0 && Date.now() < deadline) await sleep(100);
    expect(serve.output.filter((l) => /checkpoint|Cannot find module/i.test(l))).toEqual([]);
    expect(walSize(dbPath)).toBe(0);
  });
});
