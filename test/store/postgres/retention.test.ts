import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { openGeoIp } from '../../../src/geo/geoip.js';
import { createGuard, type Guard } from '../../../src/guard/guard.js';
import { validateDocument } from '../../../src/policy/document.js';
import { createPool } from '../../../src/store/postgres/connection.js';
import { createPostgresStore } from '../../../src/store/postgres/postgres-store.js';
import { pruneAudit } from '../../../src/store/postgres/retention.js';
import { KEEP_MS } from '../../../src/store/postgres/velocity.js';
import type { Store } from '../../../src/store/roles/index.js';
import { call } from '../../fraud/fixture.js';
import { needPostgres, usePostgresServer } from '../../support/postgres.js';
import { createDatabase, dropDatabase } from '../../support/postgres-cluster.js';

/** Audit retention on PostgreSQL keeps and prunes what it does on SQLite (test/store/retention.test.ts). */
const DAY = 86_400_000;
const NOW = Date.now();
const OLD = NOW - 500 * DAY;
const CUTOFF = NOW - 400 * DAY;
const BATCH = 50;
const JAMAICA = '18765551234';

describe.runIf(await needPostgres())('audit retention on PostgreSQL', () => {
  const server = usePostgresServer();
  let url: string;
  let store: Store;
  let guard: Guard;
  let sql: pg.Client;
  let pool: pg.Pool | undefined;
  afterEach(async () => {
    await pool?.end();
    await sql?.end();
    await store?.close();
    if (url) await dropDatabase(url);
  });
  const count = async (text: string, ...values: unknown[]): Promise<number> => Number((await sql.query(text, values)).rows[0].n);

  it('prunes old decisions in batches and keeps the active reservation, what a pending alert names, and the current totals', async () => {
    url = await createDatabase(server.serverUrl);
    store = await createPostgresStore({ url, lockWaitMs: 5000 });
    await store.importDocument(
      validateDocument({ defaults: { budget: { dailySpend: null, monthlySpend: null, dailyMinutes: null, maxConcurrent: null } }, rates: [{ prefix: '+', perMinute: 0.01, increment: 60 }] }),
      'test',
      () => undefined,
    );
    guard = createGuard({ store, homeCountry: 'US', timezone: 'America/New_York', geoip: openGeoIp() });
    sql = new pg.Client({ connectionString: url });
    await sql.connect();

    // 300 old calls settled long ago, an old one never settled, two old alerts (one still to deliver), a settlement nobody knows, recent calls.
    for (let i = 0; i < 300; i++) {
      const d = await guard.authorize(call(`20${i % 20}`, '12125550123', new Date(OLD + i * 60_000)));
      await store.settle({ callId: d.callId, answeredSeconds: 30, dialStatus: 'ANSWER', at: new Date(OLD + i * 60_000 + 45_000) });
    }
    const open = (await guard.authorize(call('3000', '12125550123', new Date(OLD)))).callId;
    for (const ext of ['3001', '3002']) for (let i = 0; i < 10; i++) await guard.authorize(call(ext, JAMAICA, new Date(OLD + i * 1000)));
    const [pending, delivered] = await Promise.all(['3001', '3002'].map(async (ext) => (await store.listAlerts({ ext }, { limit: 10 }))[0]!));
    await store.recordAlertDelivery(delivered!.id, { status: 'delivered', attempts: 1, nextAt: null, lastError: null, deliveredTo: ['abc123'] });
    await store.settle({ callId: '01AAAAAAAAAAAAAAAAAAAAAAAA', answeredSeconds: 10, dialStatus: 'ANSWER', at: new Date(OLD) });
    for (let i = 0; i < 5; i++) {
      const d = await guard.authorize(call('2001', '12125550123', new Date(NOW - 60_000 + i)));
      await store.settle({ callId: d.callId, answeredSeconds: 30, dialStatus: 'ANSWER', at: new Date(NOW) });
    }
    const named = [...new Set([pending!.decisionId!, ...pending!.details.decisionIds])];
    const oldBefore = await count('SELECT count(*) AS n FROM decisions WHERE at < $1', CUTOFF);
    expect(oldBefore).toBe(300 + 1 + 20);

    pool = createPool({ url, connectTimeoutMs: 5000, size: 2 });
    const report = await pruneAudit(pool, { days: 400, now: NOW, batchRows: BATCH, pauseMs: 0 });

    const left = (await sql.query<{ id: string }>('SELECT id FROM decisions WHERE at < $1 ORDER BY id', [CUTOFF])).rows.map((r) => r.id);
    expect(left).toEqual([open, ...named].sort());
    expect((await store.getReservation(open))?.status).toBe('active');
    expect(await count('SELECT count(*) AS n FROM alerts')).toBe(1);
    expect(await count('SELECT count(*) AS n FROM decisions WHERE at >= $1', CUTOFF)).toBe(5);
    expect(await count('SELECT count(*) AS n FROM settlements')).toBe(5);
    expect(await count('SELECT count(*) AS n FROM reservations r LEFT JOIN decisions d ON d.id = r.call_id WHERE d.id IS NULL')).toBe(0);
    expect(report.pruned).toMatchObject({ decisions: oldBefore - left.length, reservations: 300, settlements: 301, alerts: 1 });
    expect(report.transactions).toBeGreaterThanOrEqual(Math.ceil(300 / BATCH));

    // Today's and this month's totals stay; the old days and months go. Velocity rows outside every window go.
    const periods = (await sql.query<{ period: string }>('SELECT DISTINCT period FROM usage_totals ORDER BY period')).rows.map((r) => r.period);
    const thisMonth = `m:${new Intl.DateTimeFormat('en-CA', { timeZone: 'America/New_York', year: 'numeric', month: '2-digit' }).format(NOW)}`;
    expect(periods).toContain(thisMonth);
    expect(periods.every((p) => p >= `d:${new Date(CUTOFF - DAY).toISOString().slice(0, 10)}` || p.startsWith('m:'))).toBe(true);
    expect(periods.filter((p) => p.startsWith('m:') && p < `m:${new Date(CUTOFF - DAY).toISOString().slice(0, 7)}`)).toEqual([]);
    expect(await count('SELECT count(*) AS n FROM velocity_attempts WHERE at <= $1', NOW - KEEP_MS)).toBe(0);
    expect(await count('SELECT count(*) AS n FROM velocity_destinations WHERE last_at <= $1', NOW - KEEP_MS)).toBe(0);
    expect(await count('SELECT count(*) AS n FROM velocity_attempts WHERE at > $1', NOW - KEEP_MS)).toBe(5);
  });
});
