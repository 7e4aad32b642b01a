import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { connect } from '../agi/wire.js';
import { authorizeEnv, playAsteriskSession, type AsteriskTranscript } from '../support/asterisk-agi.js';
import { seedPolicy } from '../support/seed.js';
import { startServe, type ServeProcess } from '../support/serve-process.js';

const LAN = '192.168.1.20:5060';
const vars = (t: AsteriskTranscript) => Object.fromEntries(t.variables);
const call = (port: number, ext = 'pool', extra: Partial<Parameters<typeof playAsteriskSession>[0]> = {}) =>
  playAsteriskSession({ port, env: authorizeEnv({ ext, number: '13125550123', source: LAN, origin: 'phone' }), ...extra });

let dir: string;
let db: string;
const running: ServeProcess[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dialguard-e2e-'));
  db = join(dir, 'dialguard.db');
  await seedPolicy(db, { extensions: { pool: { budget: { maxConcurrent: 5 } } } });
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
  rmSync(dir, { recursive: true, force: true });
});

async function serve(env: Record<string, string> = {}): Promise<ServeProcess> {
  const s = await startServe(db, env);
  running.push(s);
  return s;
}

describe('concurrency over real TCP', () => {
  it('500 concurrent sessions against maxConcurrent 5 give exactly 5 ALLOWs, every session answered', { timeout: 120_000 }, async () => {
    const s = await serve();
    const results = await Promise.all(Array.from({ length: 500 }, () => call(s.agiPort)));
    const byResult = results.map((t) => vars(t).DIALGUARD_RESULT);
    expect(byResult.filter((r) => r === 'ALLOW')).toHaveLength(5);
    expect(byResult.filter((r) => r === 'DENY')).toHaveLength(495);
    expect(results.every((t) => t.end === 'server-fin' && t.violations.length === 0)).toBe(true);
    expect(results.filter((t) => vars(t).DIALGUARD_REASON === 'budget_concurrency')).toHaveLength(495);
  });

  it('two serve processes on one database file share one budget', { timeout: 120_000 }, async () => {
    const [a, b] = await Promise.all([serve(), serve()]);
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => call(i % 2 ? (a as ServeProcess).agiPort : (b as ServeProcess).agiPort)));
    expect(results.filter((t) => vars(t).DIALGUARD_RESULT === 'ALLOW')).toHaveLength(5);
  });
});

describe('the answer deadline', () => {
  it('with the store held locked by another process, the channel gets DENY guard_error before the deadline', { timeout: 60_000 }, async () => {
    const s = await serve({ DIALGUARD_ANSWER_DEADLINE_MS: '500' });
    const holder = new Database(db);
    holder.exec('BEGIN IMMEDIATE');
    try {
      const started = Date.now();
      const t = await call(s.agiPort);
      const result = t.commands.find((c) => c.args[2] === 'DIALGUARD_RESULT');
      expect(vars(t)).toMatchObject({ DIALGUARD_RESULT: 'DENY', DIALGUARD_REASON: 'guard_error', DIALGUARD_LIMIT_MS: '0' });
      expect(result?.receivedAtMs).toBeLessThan(500);
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
    // The error was logged with the call's ids (the log is written asynchronously: the answer can
    // reach the channel before the line reaches the pipe), and the guard answers normally again.
    await vi.waitFor(() =>
      expect(s.output.some((l) => l.includes('"answering guard_error"') && l.includes('DG_STORE') && l.includes('"uniqueid"'))).toBe(true),
    );
    expect(vars(await call(s.agiPort)).DIALGUARD_RESULT).toBe('ALLOW');
  });
});

describe('peers that are not a healthy Asterisk', () => {
  it('a peer that never sends the blank line is cut off; a good session meanwhile is served', { timeout: 30_000 }, async () => {
    const s = await serve();
    const stall = await connect(s.agiPort);
    stall.on('error', () => undefined);
    stall.write('agi_network: yes\nagi_network_script: authorize\n');
    const good = await call(s.agiPort);
    expect(vars(good).DIALGUARD_RESULT).toBe('ALLOW');
    await once(stall, 'close');
  });

  it('garbage and an overlong line are cut off without affecting other sessions', { timeout: 30_000 }, async () => {
    const s = await serve();
    const garbage = await connect(s.agiPort);
    garbage.on('error', () => undefined);
    garbage.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const long = await connect(s.agiPort);
    long.on('error', () => undefined);
    long.write(`agi_network: ${'x'.repeat(20_000)}`);
    await Promise.all([once(garbage, 'close'), once(long, 'close')]);
    expect(vars(await call(s.agiPort)).DIALGUARD_RESULT).toBe('ALLOW');
  });

  it('a flood of idle connections beyond the limit is refused while a session in the limit is served', { timeout: 60_000 }, async () => {
    const s = await serve({ DIALGUARD_AGI_MAX_CONNECTIONS: '50' });
    const flood = await Promise.all(Array.from({ length: 80 }, () => connect(s.agiPort).catch(() => null)));
    const sockets = flood.filter((x) => x !== null);
    for (const x of sockets) x.on('error', () => undefined);
    // The idle sessions are cut when their environment never completes.
    await Promise.all(sockets.map((x) => (x.destroyed ? null : once(x, 'close'))));
    expect(vars(await call(s.agiPort)).DIALGUARD_RESULT).toBe('ALLOW');
    expect(s.output.some((l) => l.includes('AGI connections shed: too many sessions at once'))).toBe(true);
  });
});

describe('who may connect', () => {
  it('a connection from an address outside DIALGUARD_AGI_ALLOW is dropped unanswered, and logged', { timeout: 30_000 }, async () => {
    const s = await serve({ DIALGUARD_AGI_ALLOW: '192.0.2.10' });
    const t = await call(s.agiPort);
    expect(t.commands).toEqual([]);
    expect(t.variables.size).toBe(0);
    await new Promise((r) => setTimeout(r, 50));
    expect(s.output.some((l) => l.includes('address not allowed'))).toBe(true);
  });
});

describe('shutdown', () => {
  it('SIGTERM lets a session in flight finish, then exits 0', { timeout: 30_000 }, async () => {
    const s = await serve();
    // A slow Asterisk: 100 ms per reply, so the session is still in flight at SIGTERM.
    const inFlight = call(s.agiPort, 'pool', { replyDelayMs: 100 });
    await new Promise((r) => setTimeout(r, 150));
    const stopped = s.stop();
    const t = await inFlight;
    expect(vars(t).DIALGUARD_RESULT).toBe('ALLOW');
    expect(await stopped).toBe(0);
  });
});
