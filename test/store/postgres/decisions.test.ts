import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import type { DecisionRequest } from '../../../src/domain/decision.js';
import { openGeoIp } from '../../../src/geo/geoip.js';
import { createGuard, type Guard } from '../../../src/guard/guard.js';
import { validateDocument, type PolicyDocument } from '../../../src/policy/document.js';
import { createPostgresStore } from '../../../src/store/postgres/postgres-store.js';
import type { Store } from '../../../src/store/roles/index.js';
import { needPostgres, usePostgresDatabase } from '../../support/postgres.js';
import { createDatabase, dropDatabase } from '../../support/postgres-cluster.js';

/** The PostgreSQL decision path's own ways of failing: what a failed decision leaves behind, and what a dry run sees. */
const call = (at = new Date(), extension = '1001'): DecisionRequest => ({ extension, dialled: '2125550123', source: '10.0.0.5:5060', origin: 'phone', at, transport: 'agi' });

describe.runIf(await needPostgres())('the PostgreSQL decision path', () => {
  const server = usePostgresDatabase();
  let url: string;
  let store: Store;
  let guard: Guard;
  let sql: pg.Client;

  const open = async (doc?: PolicyDocument, reservationGraceSeconds = 300): Promise<void> => {
    url = await createDatabase(server.serverUrl);
    // Generous waits: these tests are about what is written, not about a busy machine's timeouts.
    store = await createPostgresStore({ url, reservationGraceSeconds, lockWaitMs: 5000 });
    if (doc) await store.importDocument(validateDocument(doc), 'test', () => undefined);
    guard = createGuard({ store, homeCountry: 'US', timezone: 'America/New_York', geoip: openGeoIp() });
    sql = new pg.Client({ connectionString: url });
    await sql.connect();
  };
  afterEach(async () => {
    await sql?.end();
    await store?.close();
    if (url) await dropDatabase(url);
  });

  const count = async (table: string): Promise<number> => Number((await sql.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);

  it('a decision whose reservation cannot be written commits nothing, not even its audit row', async () => {
    await open();
    // A rate written before the bounds existed: the grant's cost is not a number a reservation may hold.
    await sql.query(`INSERT INTO settings (key, value) VALUES ('rates', $1)`, [JSON.stringify([{ prefix: '+', perMinute: 1.797e308, increment: 60 }])]);
    await sql.query(`UPDATE meta SET value = value + 1 WHERE key = 'policy_version'`);
    await store.updateSetting('defaults', 'test', () => ({ budget: { dailySpend: null, monthlySpend: null } }));
    await expect(guard.authorize(call())).rejects.toThrow(expect.objectContaining({ code: 'DG_VALUE_OUT_OF_RANGE' }));
    expect(await count('decisions')).toBe(0);
    expect(await count('reservations')).toBe(0);
    expect(await count('velocity_attempts')).toBe(0);
  });

  it('in a batch, an item that fails (here its statements) fails alone and leaves nothing written', async () => {
    await open({ extensions: { '1001': {}, '1002': {} } });
    const item = (request: DecisionRequest) => ({ request, startedAt: process.hrtime.bigint() });
    const [first, second, third] = await guard.authorizeBatch([item(call(new Date(), '1001')), item(call(new Date(Number.NaN), '1002')), item(call(new Date(), '1002'))]);
    expect(first).toMatchObject({ ok: true, decision: { result: 'ALLOW' } });
    expect(second?.ok).toBe(false);
    expect(third).toMatchObject({ ok: true, decision: { result: 'ALLOW' } });
    expect(await count('decisions')).toBe(2);
    expect(await store.activeReservations(new Date(), '1002')).toHaveLength(1);
  });

  it('a dry run sees an overdue reservation as expired, as the real decision does', async () => {
    await open({ defaults: { budget: { maxConcurrent: 1, maxCallSeconds: 600 } } }, 60);
    const start = Date.parse('2026-11-17T15:00:00Z');
    expect((await guard.authorize(call(new Date(start)))).result).toBe('ALLOW');
    expect(await guard.check(call(new Date(start)))).toMatchObject({ result: 'DENY', reason: 'budget_concurrency' });
    // Never settled: two hours later it is overdue (600 s limit plus 60 s grace).
    const later = new Date(start + 2 * 3_600_000);
    expect((await store.usage('1001', later, 'America/New_York')).activeCalls).toBe(0);
    expect((await guard.check(call(later))).result).toBe('ALLOW');
    expect((await guard.authorize(call(later))).result).toBe('ALLOW');
  });
});
