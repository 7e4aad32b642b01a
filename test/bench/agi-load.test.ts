/**
 * The bench's C load generator is sound (no timing here: speed is `npm run bench`'s business):
 * it compiles with the machine's cc (no compiler is a failure, not a skip), talks FastAGI as
 * Asterisk 22 does (agi-authorize-syscalls.txt), and completes every session against the null
 * responder and a real `dialguard serve`, the guard's seven answers parsed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileAgiLoad, runAgiLoad, writeTemplates, type AgiLoadResult } from '../../scripts/bench/agi-load.js';
import { startNull, stop } from '../../scripts/bench/servers.js';
import { seedSite, workload } from '../../scripts/bench/site.js';
import { startServe } from '../support/serve-process.js';

let dir: string;
let templates: string;
const envs = workload();
let compiled: string | undefined;
/** Compiled in the tests, not in a hook: without a C compiler every test fails (a hook's failure shows them as skipped). */
const binary = (): string => (compiled ??= compileAgiLoad(dir));

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'dialguard-agi-load-'));
  templates = writeTemplates(join(dir, 'sessions.env'), envs);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const NO_ERRORS = { connect: 0, reset: 0, timeout: 0, pipelined: 0, longLine: 0, write: 0 };

function expectReport(result: AgiLoadResult, sessions: number): void {
  expect(result.sessions).toBe(sessions);
  expect(result.started).toBe(sessions);
  expect(result.errors).toEqual(NO_ERRORS);
  // Seven SET VARIABLEs in every session: the guard's answer (or the null's) read to the end.
  expect(result.variables).toEqual({ '7': sessions });
  for (const field of ['seconds', 'rate'] as const) expect(result[field]).toBeGreaterThan(0);
  for (const p of ['p50', 'p90', 'p99', 'max'] as const) expect(result.latencyMs[p]).toBeGreaterThan(0);
  expect(result.latencyMs.p50).toBeLessThanOrEqual(result.latencyMs.max);
  for (const c of ['user', 'system', 'total'] as const) expect(typeof result.cpuSeconds[c]).toBe('number');
}

interface Seen {
  /** Everything the generator wrote before the first command. */
  environment: string;
  /** What arrived after each command, before the next one was sent. */
  replies: string[];
  /** What arrived after the server's FIN, up to the generator's close. */
  afterFin: string;
}

/**
 * A FastAGI server that watches the generator's bytes: reads the environment up to the empty
 * line, sends `commands` one at a time (or all at once when `pipeline`), then half-closes.
 */
function watchingServer(commands: string[], pipeline = false): Promise<{ port: number; seen: Seen[]; close: () => void }> {
  const seen: Seen[] = [];
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    const s: Seen = { environment: '', replies: [], afterFin: '' };
    seen.push(s);
    let phase: 'env' | 'commands' | 'closed' = 'env';
    let next = 0;
    let pending = '';
    const send = (): void => {
      if (pipeline) {
        socket.write(commands.join(''));
        next = commands.length;
      } else socket.write(commands[next++] as string);
    };
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      if (phase === 'env') {
        s.environment += chunk;
        if (s.environment.includes('\n\n')) {
          phase = 'commands';
          send();
        }
      } else if (phase === 'commands') {
        pending += chunk;
        if (!pending.endsWith('\n')) return;
        s.replies.push(pending);
        pending = '';
        if (next < commands.length) send();
        else {
          phase = 'closed';
          socket.end();
        }
      } else s.afterFin += chunk;
    });
    socket.on('error', () => undefined);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      resolve({ port, seen, close: () => server.close() });
    });
  });
}

describe('agi-load, the bench load generator in C', () => {
  it("compiles with the machine's cc", () => {
    expect(binary()).toBe(join(dir, 'agi-load'));
  });

  it('writes the environment and the lone "\\n", answers each command after it arrived, and says HANGUP after the FIN', async () => {
    const commands = ['SET VARIABLE DIALGUARD_RESULT DENY\n', 'NOOP\n', 'SET VARIABLE DIALGUARD_REASON "velocity_exceeded"\n'];
    const server = await watchingServer(commands);
    try {
      const result = await runAgiLoad(binary(), templates, server.port, { concurrency: 2, sessions: 3 }, 7);
      expect(result.errors).toEqual(NO_ERRORS);
      expect(result.commands).toEqual({ '3': 3 });
      expect(result.variables).toEqual({ '2': 3 });
      expect(result.results).toEqual({ DENY: 3 });
      // Sessions 7, 8, 9 of the templates (the offset), in some order.
      expect(server.seen.map((s) => s.environment).sort()).toEqual([7, 8, 9].map((i) => `${(envs[i] as string[]).join('')}\n`).sort());
      for (const s of server.seen) {
        expect(s.replies).toEqual(['200 result=1\n', '200 result=0\n', '200 result=1\n']);
        expect(s.afterFin).toBe('HANGUP\n');
      }
    } finally {
      server.close();
    }
  });

  it('counts a server that sends its next command before the reply as an error, not a session', async () => {
    const server = await watchingServer(['SET VARIABLE A 1\n', 'SET VARIABLE B 2\n'], true);
    try {
      const result = await runAgiLoad(binary(), templates, server.port, { concurrency: 1, sessions: 2 });
      expect(result.sessions).toBe(0);
      expect(result.errors.pipelined).toBe(2);
    } finally {
      server.close();
    }
  });

  it('counts refused connections as connect errors', async () => {
    const server = await watchingServer([]);
    const { port } = server;
    server.close();
    const result = await runAgiLoad(binary(), templates, port, { concurrency: 2, sessions: 4 });
    expect(result).toMatchObject({ sessions: 0, started: 4, errors: { ...NO_ERRORS, connect: 4 } });
  });

  it('ends the sessions of a server that never answers as timeouts, and reuses their slots', async () => {
    const silent = net.createServer((socket) => socket.on('error', () => undefined));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as net.AddressInfo;
    try {
      // Four slots for eight sessions: the last four start only in the slots the first four's timeouts freed.
      const max = await runAgiLoad(binary(), templates, port, { concurrency: 4, sessions: 8, timeoutMs: 150 });
      expect(max).toMatchObject({ sessions: 0, started: 8, errors: { ...NO_ERRORS, timeout: 8 } });
      const fixed = await runAgiLoad(binary(), templates, port, { rate: 100, seconds: 0.3, timeoutMs: 150 });
      expect(fixed).toMatchObject({ sessions: 0, started: 30, errors: { ...NO_ERRORS, timeout: 30 } });
    } finally {
      silent.close();
    }
  });

  it('completes every session against the null responder, at maximum rate and at a fixed rate', async () => {
    const nullServer = await startNull();
    try {
      const max = await runAgiLoad(binary(), templates, nullServer.port, { concurrency: 16, sessions: 50 });
      expectReport(max, 50);
      expect(max).toMatchObject({ mode: 'max', commands: { '7': 50 }, results: { ALLOW: 50 } });
      const fixed = await runAgiLoad(binary(), templates, nullServer.port, { rate: 100, seconds: 0.5 });
      expectReport(fixed, 50);
      expect(fixed.mode).toBe('rate');
    } finally {
      await stop(nullServer);
    }
  });

  it("completes every session against a real dialguard serve on the bench's site, every answer an ALLOW or a DENY", async () => {
    const dbPath = join(dir, 'guard.db');
    await seedSite(dbPath);
    const guard = await startServe(dbPath, { DIALGUARD_LOG_LEVEL: 'warn' });
    try {
      const result = await runAgiLoad(binary(), templates, guard.agiPort, { concurrency: 16, sessions: 50 });
      expectReport(result, 50);
      expect(Object.keys(result.results).every((r) => r === 'ALLOW' || r === 'DENY')).toBe(true);
      expect((result.results.ALLOW ?? 0) + (result.results.DENY ?? 0)).toBe(50);
      // The workload mixes allowed calls with denied ones (Jamaica, premium, off-network sources).
      expect(result.results.ALLOW).toBeGreaterThan(0);
      expect(result.results.DENY).toBeGreaterThan(0);
      // ALLOW or DENY, a session is the seven variables and nothing else: the dialplan logs the denial.
      expect(result.commands).toEqual({ '7': 50 });
    } finally {
      await guard.stop();
    }
  });
});
