import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/roles/index.js';
import { authorizeEnv, playAsteriskSession, settleEnv, type AsteriskTranscript } from '../support/asterisk-agi.js';
import { needPostgres, usePostgresDatabase } from '../support/postgres.js';
import { seedPolicy } from '../support/seed.js';
import { startServe, type ServeProcess } from '../support/serve-process.js';

/**
 * Two real `dialguard serve` processes on different ports sharing one PostgreSQL database, as
 * the README's "Several guards" section sets them up, driven by the Asterisk double.
 */
const BUDGET = 8;
const LAN = '192.168.1.20:5060';
// Velocity out of the way: these tests are about budgets shared between guards.
const RELAXED_VELOCITY = { maxAttemptsPerMinute: 100_000, maxInternationalPerHour: 100_000, maxDistinctDestinationsPerHour: 100_000, maxDeniedPerHour: 100_000 };

describe.runIf(await needPostgres())('two guards on one PostgreSQL', () => {
  const database = usePostgresDatabase();
  const token = randomBytes(20).toString('hex');
  let a: ServeProcess;
  let b: ServeProcess;
  let store: Store;

  beforeAll(async () => {
    // Both start at once on the empty database: one migrates, the other waits for it.
    const env = {
      DIALGUARD_ADMIN_TOKEN: token,
      // 500 calls of one extension take turns on its lock: the answer deadline must not be what this measures.
      DIALGUARD_ANSWER_DEADLINE_MS: '30000',
    };
    [a, b] = await Promise.all([startServe(database.url, env), startServe(database.url, env)]);
    await seedPolicy(database.url, {
      defaults: { velocity: RELAXED_VELOCITY },
      extensions: {
        shared: { budget: { maxConcurrent: BUDGET, dailySpend: null, monthlySpend: null, dailyMinutes: null } },
        load: { budget: { maxConcurrent: null, dailySpend: null, monthlySpend: null, dailyMinutes: null } },
        '1001': {},
        '1002': {},
      },
    });
    store = await openStore({ database: database.url, lockWaitMs: 5000, reservationGraceSeconds: 300 });
  }, 60_000);
  afterAll(async () => {
    await store?.close();
    await Promise.all([a?.stop(), b?.stop()]);
  });

  const authorize = (guard: ServeProcess, ext: string, number = '12125550123'): Promise<AsteriskTranscript> =>
    playAsteriskSession({ port: guard.agiPort, env: authorizeEnv({ ext, number, source: LAN, origin: 'phone' }), giveUpAfterMs: 60_000 });
  const vars = (t: AsteriskTranscript): Record<string, string> => Object.fromEntries(t.variables);

  it('500 concurrent authorisations split across both give exactly the budget of ALLOWs', { timeout: 120_000 }, async () => {
    const answers = await Promise.all(Array.from({ length: 500 }, (_, i) => authorize(i % 2 === 0 ? a : b, 'shared')));
    const results = answers.map(vars);
    const reasons: Record<string, number> = {};
    for (const r of results) reasons[r.DIALGUARD_REASON ?? 'none'] = (reasons[r.DIALGUARD_REASON ?? 'none'] ?? 0) + 1;
    expect(reasons).toEqual({ allowed: BUDGET, budget_concurrency: 500 - BUDGET });
    expect(results.filter((r) => r.DIALGUARD_RESULT === 'ALLOW')).toHaveLength(BUDGET);
    // Both guards allowed some: the budget is one, not one per guard.
    const allowedBy = (guard: number) => results.filter((r, i) => i % 2 === guard && r.DIALGUARD_RESULT === 'ALLOW').length;
    expect(allowedBy(0) + allowedBy(1)).toBe(BUDGET);
    expect(await store.activeReservations(new Date(), 'shared')).toHaveLength(BUDGET);
    expect(await store.listDecisions({ ext: 'shared' }, { limit: 1000 })).toHaveLength(500);
  });

  it('a lock set through one guard\'s API denies on the other at once', async () => {
    expect(vars(await authorize(b, '1001')).DIALGUARD_RESULT).toBe('ALLOW');
    const locked = await fetch(`http://127.0.0.1:${a.httpPort}/api/v1/extensions/1001/lock`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'password leaked' }),
    });
    expect(locked.status).toBe(200);
    const lockedAt = Date.now();
    const next = vars(await authorize(b, '1001'));
    expect(Date.now() - lockedAt).toBeLessThan(1000);
    expect(next).toMatchObject({ DIALGUARD_RESULT: 'DENY', DIALGUARD_REASON: 'extension_locked' });
  });

  it('a call authorised by one guard settles through the other', async () => {
    const allowed = vars(await authorize(a, '1002'));
    expect(allowed.DIALGUARD_RESULT).toBe('ALLOW');
    const callId = allowed.DIALGUARD_CALL_ID as string;
    const settled = await playAsteriskSession({ port: b.agiPort, env: settleEnv({ callId, answeredTime: '125', dialStatus: 'ANSWER' }) });
    expect(vars(settled).DIALGUARD_SETTLED).toBe(`settled ${callId}`);
    expect(await store.getReservation(callId)).toMatchObject({ status: 'settled', answeredSeconds: 125 });
    // Settled again through the first: a duplicate, no total changes.
    const again = await playAsteriskSession({ port: a.agiPort, env: settleEnv({ callId, answeredTime: '125', dialStatus: 'ANSWER' }) });
    expect(vars(again).DIALGUARD_SETTLED).toBe(`duplicate ${callId}`);
  });

  it('with one guard killed mid-load the other keeps answering, and every answer given is in the audit', { timeout: 120_000 }, async () => {
    const answered: string[] = [];
    let answeredByA = 0;
    const call = async (guard: 'a' | 'b'): Promise<{ guard: 'a' | 'b'; answered: boolean }> => {
      try {
        const t = await authorize(guard === 'a' ? a : b, 'load');
        const callId = t.variables.get('DIALGUARD_CALL_ID');
        if (t.variables.get('DIALGUARD_RESULT') !== 'ALLOW' || !callId) return { guard, answered: false };
        answered.push(callId);
        // SIGKILL while the first guard has calls in flight: no shutdown, its transactions cut off.
        if (guard === 'a' && ++answeredByA === 30) a.child.kill('SIGKILL');
        return { guard, answered: true };
      } catch {
        // Refused: Asterisk would set AGISTATUS=FAILURE, and the dialplan ask the backup guard or fail closed.
        return { guard, answered: false };
      }
    };
    // 200 calls, one every 5 ms, alternately to each guard.
    const outcomes = await Promise.all(
      Array.from({ length: 200 }, (_, i) => new Promise<void>((r) => setTimeout(r, i * 5)).then(() => call(i % 2 === 0 ? 'a' : 'b'))),
    );
    expect(a.child.signalCode).toBe('SIGKILL');
    expect(outcomes.filter((o) => o.guard === 'b' && !o.answered)).toEqual([]);
    const byA = outcomes.filter((o) => o.guard === 'a');
    expect(byA.filter((o) => o.answered).length).toBeGreaterThanOrEqual(30);
    expect(byA.filter((o) => !o.answered).length).toBeGreaterThan(0);
    const audited = await Promise.all(answered.map((id) => store.getDecision(id)));
    expect(audited.filter((d) => d === null)).toEqual([]);
    expect(audited.every((d) => d?.extension === 'load' && d.result === 'ALLOW')).toBe(true);
  });
});
