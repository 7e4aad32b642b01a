import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { tempGuard, type TempGuard } from '../support/temp-db.js';

const root = resolve(import.meta.dirname, '../..');
const WORKER = resolve(root, 'test/support/authorize-worker.ts');

interface WorkerResult {
  result: string;
  reason: string;
  reserved: number;
}

function startWorker(dbPath: string, count: number, number: string, name: string): { child: ChildProcessWithoutNullStreams; lines: string[]; ready: Promise<void> } {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER, dbPath, String(count), number, name], { cwd: root });
  const lines: string[] = [];
  let buffer = '';
  let stderr = '';
  const ready = new Promise<void>((resolveReady, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let i: number;
      while ((i = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 1);
        if (line === 'ready') resolveReady();
        else lines.push(line);
      }
    });
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => code !== 0 && reject(new Error(`worker ${name} exited ${code}: ${stderr}`)));
  });
  return { child, lines, ready };
}

/** Several processes on one database file, released at the same moment. */
async function race(dbPath: string, processes: number, perProcess: number, number: string): Promise<WorkerResult[]> {
  const workers = Array.from({ length: processes }, (_, i) => startWorker(dbPath, perProcess, number, `w${i}`));
  await Promise.all(workers.map((w) => w.ready));
  for (const w of workers) w.child.stdin.end('go\n');
  await Promise.all(workers.map((w) => once(w.child, 'exit')));
  return workers.flatMap((w) => JSON.parse(w.lines[0] as string) as WorkerResult[]);
}

describe('budget atomicity across processes on one database file', () => {
  let t: TempGuard | undefined;
  afterEach(() => t?.close());

  it('200 concurrent authorizations from 4 processes against maxConcurrent 5 give exactly 5 ALLOWs', { timeout: 120_000 }, async () => {
    t = await tempGuard({ defaults: { budget: { maxConcurrent: 5 } } });
    const results = await race(t.dbPath, 4, 50, '12125550123');
    expect(results).toHaveLength(200);
    expect(results.filter((r) => r.result === 'ALLOW')).toHaveLength(5);
    expect(results.filter((r) => r.result === 'DENY').every((r) => r.reason === 'budget_concurrency')).toBe(true);

    const db = new Database(t.dbPath, { readonly: true });
    expect(db.prepare(`SELECT COUNT(*) FROM reservations WHERE status = 'active'`).pluck().get()).toBe(5);
    expect(db.prepare(`SELECT COUNT(*) FROM decisions`).pluck().get()).toBe(200);
    db.close();
  });

  it('the reserved total never exceeds the daily spend budget', { timeout: 120_000 }, async () => {
    // 0.50/min to the UK, 5-minute calls (2.50 each) against 10.30 a day: four calls fit, then 0.30 buys no minute.
    t = await tempGuard({
      defaults: {
        destinations: { allowCountries: ['US', 'GB'] },
        budget: { maxConcurrent: null, dailySpend: 10.3, monthlySpend: null, dailyMinutes: null, maxCallSeconds: 300 },
      },
      rates: [
        { prefix: '+', perMinute: 1, increment: 60 },
        { prefix: '+44', perMinute: 0.5, increment: 60 },
      ],
    });
    const results = await race(t.dbPath, 4, 50, '011442079460000');
    const allowed = results.filter((r) => r.result === 'ALLOW');
    const reserved = allowed.reduce((sum, r) => sum + r.reserved, 0);
    expect(reserved).toBeLessThanOrEqual(10_300_000);
    expect(allowed).toHaveLength(4);
    expect(results.filter((r) => r.result === 'DENY').every((r) => r.reason === 'budget_daily_spend')).toBe(true);
  });
});
