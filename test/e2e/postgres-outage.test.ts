import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { extensionKey } from '../../src/store/postgres/decision-path.js';
import { authorizeEnv, playAsteriskSession, type AsteriskTranscript } from '../support/asterisk-agi.js';
import { needPostgres } from '../support/postgres.js';
import { createDatabase, startCluster, type PostgresCluster } from '../support/postgres-cluster.js';
import { seedPolicy } from '../support/seed.js';
import { logLines, startServe, type ServeProcess } from '../support/serve-process.js';

/**
 * `dialguard serve` on PostgreSQL when PostgreSQL goes away: every call is answered DENY
 * guard_error within the answer deadline (the dialplan fails closed), and decisions resume by
 * themselves when it is back. A cluster of this file's own: it is stopped and started again.
 */
const DEADLINE_MS = 500;
const LAN = '192.168.1.20:5060';

describe.runIf(await needPostgres())('PostgreSQL down while serving', () => {
  let cluster: PostgresCluster;
  let url: string;
  let serve: ServeProcess;

  beforeAll(async () => {
    cluster = await startCluster();
    url = await createDatabase(cluster.url);
    await seedPolicy(url, { extensions: { '1001': {}, '1002': {}, '1003': {} } });
    serve = await startServe(url, { DIALGUARD_ANSWER_DEADLINE_MS: String(DEADLINE_MS) });
  }, 60_000);
  afterAll(async () => {
    await serve?.stop();
    cluster?.destroy();
  });

  const authorize = (ext = '1001'): Promise<AsteriskTranscript> => playAsteriskSession({ port: serve.agiPort, env: authorizeEnv({ ext, number: '12125550123', source: LAN, origin: 'phone' }) });
  const answer = (t: AsteriskTranscript) => ({ result: t.variables.get('DIALGUARD_RESULT'), reason: t.variables.get('DIALGUARD_REASON') });
  /** From the end of the environment to the last variable set (DIALGUARD_RESULT comes last). */
  const answeredInMs = (t: AsteriskTranscript): number => (t.commands.filter((c) => c.args[0] === 'SET').at(-1)?.receivedAtMs ?? Infinity) - t.timings.envSentMs;
  const ready = async (): Promise<number> => (await fetch(`http://127.0.0.1:${serve.httpPort}/readyz`)).status;

  it('answers DENY guard_error within the deadline while the server is stopped, and decides again once it is back', { timeout: 120_000 }, async () => {
    expect(answer(await authorize())).toEqual({ result: 'ALLOW', reason: 'allowed' });
    // Audit retention (400 days by default) runs at start, on PostgreSQL too: let it finish first.
    const pruned = () => logLines(serve.output).filter((l) => l.msg === 'audit retention: old rows pruned');
    for (let i = 0; i < 100 && pruned().length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(pruned()).toEqual([expect.objectContaining({ auditRetentionDays: 400 })]);

    cluster.stop();
    // Calls one after the other, then 20 at once: none waits past the deadline, none is let through.
    const down = [await authorize(), await authorize(), ...(await Promise.all(Array.from({ length: 20 }, () => authorize())))];
    for (const t of down) {
      expect(answer(t)).toEqual({ result: 'DENY', reason: 'guard_error' });
      expect(answeredInMs(t)).toBeLessThan(DEADLINE_MS);
    }
    expect(await ready()).toBe(503);

    cluster.start();
    // The pool opens new connections on next use: no restart of dialguard.
    let back: ReturnType<typeof answer> | null = null;
    for (let i = 0; i < 100 && back?.result !== 'ALLOW'; i++) {
      back = answer(await authorize());
      if (back.result !== 'ALLOW') await new Promise((r) => setTimeout(r, 100));
    }
    expect(back).toEqual({ result: 'ALLOW', reason: 'allowed' });
    expect(serve.child.exitCode).toBeNull();
    // The readiness probe looks at the database at most once a second: ready again within a few.
    let status = await ready();
    for (let i = 0; i < 50 && status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      status = await ready();
    }
    expect(status).toBe(200);

    const password = new URL(url).password;
    expect(serve.output.filter((line) => line.includes(password))).toEqual([]);
    expect(logLines(serve.output).some((l) => l.msg === 'answering guard_error' && l.code === 'DG_STORE')).toBe(true);
  });

  it('answers guard_error within the deadline while another session holds the extension, then decides', { timeout: 60_000 }, async () => {
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    try {
      // What a decision of 1002 on another guard holds for its transaction.
      await holder.query('BEGIN');
      await holder.query('SELECT pg_advisory_xact_lock($1, $2)', [0x64676578, extensionKey('1002')]);
      const held = await authorize('1002');
      expect(answer(held)).toEqual({ result: 'DENY', reason: 'guard_error' });
      expect(answeredInMs(held)).toBeLessThan(DEADLINE_MS);
      // Other extensions are not held up.
      expect(answer(await authorize('1003')).result).toBe('ALLOW');
      await holder.query('COMMIT');
      expect(answer(await authorize('1002'))).toEqual({ result: 'ALLOW', reason: 'allowed' });
    } finally {
      await holder.end();
    }
  });
});
