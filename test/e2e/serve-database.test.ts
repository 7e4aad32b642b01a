import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { authorizeEnv, playAsteriskSession } from '../support/asterisk-agi.js';
import { logLines, startServe, type ServeProcess } from '../support/serve-process.js';
import { tempGuard } from '../support/temp-db.js';

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

describe('dialguard serve prunes the audit', () => {
  const DAY = 86_400_000;

  /** A database with 300 decisions from 500 days ago and 10 from today. */
  async function oldDatabase(): Promise<string> {
    const t = await tempGuard();
    dirs.push(t.dir);
    for (let i = 0; i < 300; i++) await t.guard.authorize({ extension: `${1000 + (i % 30)}`, dialled: '12125550123', source: '10.0.0.5:5060', origin: 'phone', at: new Date(Date.now() - 500 * DAY + i * 60_000), transport: 'agi' });
    for (let i = 0; i < 10; i++) await t.guard.authorize({ extension: '1000', dialled: '12125550123', source: '10.0.0.5:5060', origin: 'phone', at: new Date(), transport: 'agi' });
    await t.store.close();
    return t.dbPath;
  }
  const count = (dbPath: string, sql: string): number => {
    const db = new Database(dbPath, { readonly: true });
    try {
      return db.prepare(sql).pluck().get() as number;
    } finally {
      db.close();
    }
  };
  const decisions = (dbPath: string): number => count(dbPath, 'SELECT COUNT(*) FROM decisions');
  // The last calls of each extension still hold their reservations: those stay with their decisions.
  const prunable = (dbPath: string): number =>
    count(dbPath, `SELECT COUNT(*) FROM decisions d LEFT JOIN reservations r ON r.call_id = d.id WHERE d.at < ${Date.now() - 400 * DAY} AND r.status IS NOT 'active'`);
  const waitForLog = async (msg: string): Promise<Record<string, unknown>> => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const line = logLines(serve!.output).find((l) => l.msg === msg);
      if (line || Date.now() > deadline) return line ?? {};
      await sleep(50);
    }
  };

  it('by default after 400 days, in the background, with one log line per run', { timeout: 60_000 }, async () => {
    const dbPath = await oldDatabase();
    const old = prunable(dbPath);
    expect(old).toBeGreaterThan(200);
    serve = await startServe(dbPath);
    const line = await waitForLog('audit retention: old rows pruned');
    expect(line).toMatchObject({ auditRetentionDays: 400, pruned: { decisions: old } });
    expect(decisions(dbPath)).toBe(310 - old);
  });

  it('not at all with DIALGUARD_AUDIT_RETENTION_DAYS=0', { timeout: 60_000 }, async () => {
    const dbPath = await oldDatabase();
    serve = await startServe(dbPath, { DIALGUARD_AUDIT_RETENTION_DAYS: '0' });
    expect(await waitForLog('audit retention off: decisions are kept forever')).toMatchObject({ auditRetentionDays: 0 });
    await serve.stop();
    expect(logLines(serve.output).filter((l) => String(l.msg).startsWith('audit retention:'))).toEqual([]);
    expect(decisions(dbPath)).toBe(310);
  });
});
