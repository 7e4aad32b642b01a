import { Writable } from 'node:stream';
import { setImmediate as turn } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { openDatabase } from '../../src/store/sqlite/open.js';
import { pruneAudit, startRetention } from '../../src/store/sqlite/retention.js';
import { KEEP_MS } from '../../src/store/sqlite/velocity.js';
import { tempGuard, type TempGuard } from '../support/temp-db.js';
import { call } from '../fraud/fixture.js';

const DAY = 86_400_000;
const NOW = Date.now();
const OLD = NOW - 500 * DAY;
const CUTOFF = NOW - 400 * DAY;
const BATCH = 100;
const UNLIMITED_BUDGET = { dailySpend: null, monthlySpend: null, dailyMinutes: null, maxConcurrent: null };
const RATES = [{ prefix: '+', perMinute: 0.01, increment: 60 }];
const JAMAICA = '18765551234';

let t: TempGuard | undefined;
let reader: Database.Database | undefined;
afterEach(async () => {
  reader?.close();
  await t?.close();
});

interface Site {
  /** The old decision whose reservation is still active (the extension never called again). */
  open: string;
  /** Old decisions the pending alert names: its own and those its details list. */
  named: string[];
}

/**
 * A site 500 days into service: 1,200 calls settled long ago, an unsettled one, two old alerts
 * (one still to be delivered), a settlement for a call nobody knows, and yesterday's calls.
 */
async function oldSite(): Promise<Site> {
  t = await tempGuard({ defaults: { budget: UNLIMITED_BUDGET }, rates: RATES });
  const { guard, store } = t;
  for (let i = 0; i < 1200; i++) {
    const d = await guard.authorize(call(`20${i % 40}`, '12125550123', new Date(OLD + i * 60_000)));
    if (d.result === 'ALLOW') await store.settle({ callId: d.callId, answeredSeconds: 30, dialStatus: 'ANSWER', at: new Date(OLD + i * 60_000 + 45_000) });
  }
  const open = (await guard.authorize(call('3000', '12125550123', new Date(OLD)))).callId;
  // Ten denied attempts in an hour: a warning alert, seen three times.
  for (const ext of ['3001', '3002']) for (let i = 0; i < 10; i++) await guard.authorize(call(ext, JAMAICA, new Date(OLD + i * 1000)));
  const [pending, delivered] = await Promise.all(['3001', '3002'].map(async (ext) => (await store.listAlerts({ ext }, { limit: 10 }))[0]!));
  await store.recordAlertDelivery(delivered!.id, { status: 'delivered', attempts: 1, nextAt: null, lastError: null, deliveredTo: ['abc123'] });
  await store.settle({ callId: '01AAAAAAAAAAAAAAAAAAAAAAAA', answeredSeconds: 10, dialStatus: 'ANSWER', at: new Date(OLD) });
  for (let i = 0; i < 20; i++) {
    const d = await guard.authorize(call(`20${i}`, '12125550123', new Date(NOW - DAY + i * 60_000)));
    await store.settle({ callId: d.callId, answeredSeconds: 30, dialStatus: 'ANSWER', at: new Date(NOW - DAY + i * 60_000 + 45_000) });
  }
  for (let i = 0; i < 5; i++) await guard.authorize(call('2001', '12125550123', new Date(NOW - 60_000 + i)));
  return { open, named: [...new Set([pending!.decisionId!, ...pending!.details.decisionIds])] };
}

const count = (db: Database.Database, sql: string, ...params: unknown[]): number => db.prepare(sql).pluck().get(...params) as number;
const oldDecisions = (db: Database.Database): number => count(db, 'SELECT COUNT(*) FROM decisions WHERE at < ?', CUTOFF);

describe('audit retention', () => {
  it('prunes old decisions in small transactions, the decision path running between them, and keeps what is still needed', async () => {
    const site = await oldSite();
    reader = new Database(t!.dbPath, { readonly: true });
    const oldBefore = oldDecisions(reader);
    const recentBefore = count(reader, 'SELECT COUNT(*) FROM decisions WHERE at >= ?', CUTOFF);
    const settlementsKept = count(reader, 'SELECT COUNT(*) FROM settlements s JOIN decisions d ON d.id = s.call_id WHERE d.at >= ?', CUTOFF);
    const periods = (): string[] => reader!.prepare('SELECT DISTINCT period FROM usage_totals ORDER BY period').pluck().all() as string[];
    const periodsBefore = periods();
    expect(oldBefore).toBe(1200 + 1 + 20);
    expect(site.named.length).toBeGreaterThanOrEqual(8);

    const db = openDatabase(t!.dbPath, { busyTimeoutMs: 0 });
    let done = false;
    const run = pruneAudit(db, { days: 400, now: NOW, batchRows: BATCH, pauseMs: 0 }).finally(() => (done = true));
    // Watch from another connection, and decide calls, between the run's transactions.
    const seen: number[] = [];
    let decided = 0;
    while (!done) {
      seen.push(oldDecisions(reader));
      await t!.guard.authorize(call(`9${decided}`, '12125550123', new Date()));
      decided++;
      await turn();
    }
    const report = await run;
    db.close();

    const steps = seen.slice(1).map((n, i) => (seen[i] as number) - n);
    expect(Math.max(...steps)).toBeLessThanOrEqual(BATCH);
    expect(new Set(seen).size).toBeGreaterThanOrEqual(Math.floor(1200 / BATCH));
    expect(report.transactions).toBeGreaterThanOrEqual(Math.ceil(1200 / BATCH));

    // What is still needed stays: the active reservation and its decision, what the pending alert names.
    const left = reader.prepare('SELECT id FROM decisions WHERE at < ? ORDER BY id').pluck().all(CUTOFF);
    expect(left).toEqual([site.open, ...site.named].sort());
    expect(reader.prepare('SELECT status FROM reservations WHERE call_id = ?').pluck().get(site.open)).toBe('active');
    expect(count(reader, 'SELECT COUNT(*) FROM alerts')).toBe(1);
    expect(count(reader, 'SELECT COUNT(*) FROM decisions WHERE at >= ?', CUTOFF)).toBe(recentBefore + decided);
    expect(count(reader, 'SELECT COUNT(*) FROM settlements')).toBe(settlementsKept);
    expect(count(reader, 'SELECT COUNT(*) FROM reservations r LEFT JOIN decisions d ON d.id = r.call_id WHERE d.id IS NULL')).toBe(0);
    expect(report.pruned).toMatchObject({ decisions: oldBefore - left.length, alerts: 1 });
    expect(report.pruned.settlements).toBeGreaterThan(1000);

    // Budgets read today's and this month's totals: they stay, the old days and months go.
    // (A day in the site's zone: cut a day early.)
    const cutDay = `d:${new Date(CUTOFF - DAY).toISOString().slice(0, 10)}`;
    const cutMonth = `m:${cutDay.slice(2, 9)}`;
    const thisMonth = `m:${new Intl.DateTimeFormat('en-CA', { timeZone: 'America/New_York', year: 'numeric', month: '2-digit' }).format(NOW)}`;
    const kept = periodsBefore.filter((p) => (p.startsWith('d:') ? p >= cutDay : p >= cutMonth));
    expect(periods()).toEqual(kept);
    expect(kept).toContain(thisMonth);
    expect(periodsBefore.filter((p) => p < cutDay && p.startsWith('d:')).length).toBeGreaterThan(0);
    expect(periodsBefore.filter((p) => p < cutMonth && p.startsWith('m:')).length).toBeGreaterThan(0);

    // Velocity rows outside every window go, those of the last hour stay.
    expect(count(reader, 'SELECT COUNT(*) FROM velocity_attempts WHERE at <= ?', NOW - KEEP_MS)).toBe(0);
    expect(count(reader, 'SELECT COUNT(*) FROM velocity_destinations WHERE last_at <= ?', NOW - KEEP_MS)).toBe(0);
    expect(count(reader, 'SELECT COUNT(*) FROM velocity_attempts WHERE at > ?', NOW - KEEP_MS)).toBeGreaterThanOrEqual(5);
    expect(count(reader, 'SELECT COUNT(*) FROM velocity_destinations')).toBeGreaterThanOrEqual(1);
  });

  it('runs in the background with one log line per run; 0 days keeps everything', async () => {
    await oldSite();
    const lines: Array<Record<string, unknown>> = [];
    const logger = createLogger('info', new Writable({ write: (chunk: Buffer, _e, cb) => (lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>), cb()) }));
    reader = new Database(t!.dbPath, { readonly: true });
    const before = oldDecisions(reader);

    const off = startRetention({ path: t!.dbPath, days: 0, logger });
    await off.stop();
    expect(oldDecisions(reader)).toBe(before);
    expect(lines.map((l) => l.msg)).toEqual(['audit retention off: decisions are kept forever']);

    const on = startRetention({ path: t!.dbPath, days: 400, logger, pauseMs: 0 });
    while (lines.length < 2) await turn();
    await on.stop();
    expect(lines[1]).toMatchObject({ msg: 'audit retention: old rows pruned', auditRetentionDays: 400, pruned: { decisions: expect.any(Number), settlements: expect.any(Number) } });
    expect(oldDecisions(reader)).toBeLessThan(before);
    expect(oldDecisions(reader)).toBe(before - ((lines[1]!.pruned as { decisions: number }).decisions));
  });
});
