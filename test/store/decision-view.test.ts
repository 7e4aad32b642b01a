import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { DecisionRequest } from '../../src/domain/decision.js';
import { repoRoot } from '../support/captures.js';
import { guardOn, useContractGuards } from './contract/fixture.js';

const run = promisify(execFile);

/** Another guard process on the file: authorizes `count` calls of extension 1001 (test/support/authorize-worker.ts). */
async function authorizeElsewhere(database: string, count: number, number: string): Promise<Array<{ result: string; reason: string }>> {
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(repoRoot, 'test/support/authorize-worker.ts'), database, String(count), number, 'other'], { cwd: repoRoot });
  let out = '';
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
    if (out === 'ready\n') child.stdin.end('go\n');
  });
  const [code] = (await once(child, 'exit')) as [number];
  expect(code).toBe(0);
  return JSON.parse(out.split('\n')[1] as string) as Array<{ result: string; reason: string }>;
}

const call = (dialled: string): DecisionRequest => ({
  extension: '1001',
  dialled,
  source: '10.0.0.5:5060',
  origin: 'phone',
  at: new Date(),
  transport: 'cli',
  meta: {},
});

/**
 * The SQLite store serves a decision from what this process read and wrote itself while no other
 * connection committed (src/store/sqlite/decision-view.ts); what another process commits between
 * two of its decisions must count at the second.
 */
describe('SQLite: what another process commits between two decisions counts at the next', () => {
  const open = useContractGuards(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dialguard-view-'));
    return { database: join(dir, 'dialguard.db'), destroy: async () => rmSync(dir, { recursive: true, force: true }) };
  });

  it('a lock set by another process is honoured at the next call', { timeout: 60_000 }, async () => {
    const t = await open({ defaults: { budget: { maxConcurrent: null } } });
    expect((await t.guard.authorize(call('12125550123'))).result).toBe('ALLOW');
    await run(process.execPath, ['--import', 'tsx', resolve(repoRoot, 'test/support/lock-worker.ts'), t.database, '1001'], { cwd: repoRoot });
    expect(await t.guard.authorize(call('12125550123'))).toMatchObject({ result: 'DENY', reason: 'extension_locked' });
  });

  it('a slot taken by another process counts, and one this process frees is free', { timeout: 60_000 }, async () => {
    const t = await open({ defaults: { budget: { maxConcurrent: 2, dailySpend: 100, monthlySpend: null, dailyMinutes: null, maxCallSeconds: 3600 } } });
    expect((await t.guard.authorize(call('12125550123'))).result).toBe('ALLOW');
    expect(await authorizeElsewhere(t.database, 1, '12125550124')).toMatchObject([{ result: 'ALLOW' }]);
    expect(await t.guard.authorize(call('12125550125'))).toMatchObject({ result: 'DENY', reason: 'budget_concurrency' });
    // What this process writes itself it keeps counting: a settlement frees the slot it held.
    const [first] = await t.store.listDecisions({ ext: '1001', result: 'ALLOW' }, { limit: 10 });
    expect((await t.guard.settle({ callId: first?.callId as string, answeredSeconds: 0, dialStatus: 'NOANSWER', at: new Date() })).outcome).toBe('settled');
    expect((await t.guard.authorize(call('12125550125'))).result).toBe('ALLOW');
    expect(await t.guard.authorize(call('12125550126'))).toMatchObject({ result: 'DENY', reason: 'budget_concurrency' });
  });

  it('attempts placed by another process count in the velocity of the next call', { timeout: 60_000 }, async () => {
    const t = await open({ defaults: { budget: { maxConcurrent: null }, velocity: { maxAttemptsPerMinute: 3, lockOnBreach: false } } });
    expect((await t.guard.authorize(call('12125550123'))).result).toBe('ALLOW');
    expect(await authorizeElsewhere(t.database, 2, '12125550124')).toMatchObject([{ result: 'ALLOW' }, { result: 'ALLOW' }]);
    expect(await t.guard.authorize(call('12125550125'))).toMatchObject({ result: 'DENY', reason: 'velocity_exceeded' });
  });

  it('an item that throws after it reserved fails alone: its reservation and totals are rolled back, the others kept', async () => {
    const t = await open({ defaults: { budget: { maxConcurrent: 2 } } });
    const startedAt = process.hrtime.bigint();
    // JSON cannot hold a BigInt: the audit row of this item throws after its reservation was written.
    const unwritable = { ...call('12125550124'), meta: { n: 1n } as unknown as Record<string, string> };
    const outcomes = await t.guard.authorizeBatch([
      { request: call('12125550123'), startedAt },
      { request: unwritable, startedAt },
      { request: call('12125550125'), startedAt },
    ]);
    expect(outcomes.map((o) => (o.ok ? o.decision.reason : 'error'))).toEqual(['allowed', 'error', 'allowed']);
    expect(await t.store.countActiveReservations(new Date())).toBe(2);
    const usage = await t.store.usage('1001', new Date(), 'America/New_York');
    const reserved = (await t.store.listDecisions({ ext: '1001' }, { limit: 10 })).reduce((sum, d) => sum + (d.reservedMicros ?? 0), 0);
    expect(usage).toMatchObject({ activeCalls: 2, spentTodayMicros: reserved });
    expect((await t.guard.authorize(call('12125550126'))).reason).toBe('budget_concurrency');
  });

  it('another store in this process is another connection: its settlement frees the slot', async () => {
    const t = await open({ defaults: { budget: { maxConcurrent: 1 } } });
    const other = guardOn(await t.another());
    expect((await t.guard.authorize(call('12125550123'))).result).toBe('ALLOW');
    const [mine] = await t.store.listDecisions({ ext: '1001' }, { limit: 1 });
    await other.settle({ callId: mine?.callId as string, answeredSeconds: 0, dialStatus: 'NOANSWER', at: new Date() });
    expect((await t.guard.authorize(call('12125550124'))).result).toBe('ALLOW');
    expect((await other.authorize(call('12125550125'))).reason).toBe('budget_concurrency');
    expect((await t.guard.authorize(call('12125550126'))).reason).toBe('budget_concurrency');
  });
});
