import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { PROBE_INTERVAL_MS } from '../../src/http/routes/health.js';
import { createMetrics } from '../../src/metrics.js';
import { openGeoIp } from '../../src/geo/geoip.js';
import { createGuard } from '../../src/guard/guard.js';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { Store } from '../../src/store/roles/index.js';
import { memoryLogger } from '../agi/memory-logger.js';
import { mountTmpfs, type Tmpfs } from '../support/tmpfs.js';
import { testApp, type TestApp } from './app-fixture.js';


let t: TestApp | undefined;
let disk: Tmpfs | undefined;
let app: FastifyInstance | undefined;
let store: Store | undefined;
afterEach(async () => {
  await t?.closeAll();
  await app?.close();
  await store?.close();
  disk?.unmount();
  t = disk = app = store = undefined;
});

const readyz = async (server: FastifyInstance) => {
  const response = await server.inject({ url: '/readyz' });
  return { status: response.statusCode, body: response.json() as Record<string, unknown> };
};

describe('readyz probes the database with a real write', () => {
  it('answers 503 with the reason while the disk is full, and 200 again once there is room', async () => {
    disk = mountTmpfs(4 * 1024 * 1024);
    store = createSqliteStore({ path: join(disk.dir, 'dialguard.db') });
    const guard = createGuard({ store, homeCountry: 'US', timezone: 'America/New_York', geoip: openGeoIp() });
    app = await buildApp({ guard, store, logger: memoryLogger().logger, metrics: createMetrics(store), readiness: () => ({ agi: true }) });
    expect(await readyz(app)).toEqual({ status: 200, body: { status: 'ready', checks: { database: true, agi: true } } });

    disk.fill();
    await sleep(PROBE_INTERVAL_MS);
    expect(await readyz(app)).toEqual({
      status: 503,
      body: { status: 'not ready', checks: { database: false, agi: true }, reasons: ['the database cannot be written: SQLITE_FULL: database or disk is full'] },
    });

    disk.unfill();
    await sleep(PROBE_INTERVAL_MS);
    expect(await readyz(app)).toEqual({ status: 200, body: { status: 'ready', checks: { database: true, agi: true } } });
  });

  it('answers 503 while another connection holds the write lock, and 200 once it lets go', async () => {
    t = await testApp();
    const other = new Database(t.dbPath);
    other.exec("BEGIN IMMEDIATE; UPDATE meta SET value = value WHERE key = 'policy_version'");
    expect(await readyz(t.app)).toMatchObject({ status: 503, body: { checks: { database: false }, reasons: [expect.stringMatching(/^the database cannot be written: SQLITE_BUSY/)] } });
    other.exec('COMMIT');
    other.close();
    await sleep(PROBE_INTERVAL_MS);
    expect(await readyz(t.app)).toMatchObject({ status: 200, body: { status: 'ready' } });
  });

  it('probes at most once a second, however often it is asked', async () => {
    t = await testApp();
    let probes = 0;
    const probe = t.store.checkWritable;
    t.store.checkWritable = () => {
      probes++;
      return probe();
    };
    const answers = await Promise.all(Array.from({ length: 50 }, () => readyz(t!.app)));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(probes).toBe(1);
    await sleep(PROBE_INTERVAL_MS);
    await readyz(t.app);
    expect(probes).toBe(2);
  });
});
