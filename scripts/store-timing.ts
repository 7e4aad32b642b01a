/**
 * In-process timing of the SQLite decision path (store + engine, no transport): authorizeBatch
 * on a real file, in batches as the decision queue makes them. Two workloads:
 *   many: 2,000 extensions in turn, busy-office velocity limits;
 *   one:  a single extension with every velocity limit at its largest (100,000), budgets at 1e8, so the history grows all run.
 * Prints decisions/s, µs per decision (wall clock, and CPU time of this process: the machine is
 * shared, so CPU time is the steadier one) and database bytes per decision (WAL checkpointed).
 *
 *   node --import tsx scripts/store-timing.ts [decisions=20000] [batch=16]
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { DecisionRequest } from '../src/domain/decision.js';
import { openGeoIp } from '../src/geo/geoip.js';
import { createGuard } from '../src/guard/guard.js';
import { validateDocument } from '../src/policy/document.js';
import { openStore } from '../src/store/open-store.js';

const N = Number(process.argv[2] ?? 20_000);
const BATCH = Number(process.argv[3] ?? 16);
const EXTENSIONS = 2000;
const START = Date.parse('2026-11-17T15:00:00Z');

const velocity = (limit: number) => ({
  maxAttemptsPerMinute: limit,
  maxInternationalPerHour: limit,
  maxDistinctDestinationsPerHour: limit,
  maxDeniedPerHour: limit,
  maxNewCountriesPerHour: null,
  lockOnBreach: false,
});

function site(busy: boolean): unknown {
  return {
    defaults: {
      destinations: { allowCountries: ['US', 'CA', 'GB', 'DE', 'FR'] },
      geofence: { allowCidrs: ['10.0.0.0/8'], allowCountries: ['US'], unknownSource: 'deny' },
      budget: { dailySpend: 1e8, monthlySpend: 1e8, dailyMinutes: null, maxConcurrent: null, maxCallSeconds: 3600 },
      velocity: busy ? { ...velocity(500), maxAttemptsPerMinute: 200 } : velocity(100_000),
    },
    rates: [
      { prefix: '+', perMinute: 1, increment: 60 },
      { prefix: '+1', perMinute: 0.01, increment: 6 },
      { prefix: '+44', perMinute: 0.12, increment: 1 },
    ],
  };
}

const numbers = Array.from({ length: 5000 }, (_, i) => {
  const r = i % 20;
  if (r < 14) return `1212555${String(1000 + (i % 9000)).padStart(4, '0')}`;
  if (r < 16) return `01144207946${String(i % 10000).padStart(4, '0')}`;
  if (r < 18) return `1900555${String(1000 + (i % 9000)).padStart(4, '0')}`; // premium: denied
  if (r < 19) return `18765550${String(100 + (i % 900))}`; // Jamaica: denied
  return '911';
});

async function run(name: string, busy: boolean): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'dialguard-timing-'));
  const path = join(dir, 'dialguard.db');
  const store = await openStore({ database: path, lockWaitMs: 200, reservationGraceSeconds: 300 });
  await store.importDocument(validateDocument(site(busy)), 'timing', () => undefined);
  const guard = createGuard({ store, homeCountry: 'US', timezone: 'America/New_York', geoip: openGeoIp() });
  const request = (i: number): DecisionRequest => ({
    extension: busy ? `${2000 + (i % EXTENSIONS)}` : '2000',
    dialled: numbers[i % numbers.length] as string,
    source: '10.0.0.5:5060',
    origin: 'phone',
    // 20 decisions a second: the single extension's whole run stays inside the hour windows.
    at: new Date(START + i * 50),
    transport: 'agi',
    meta: { channel: `PJSIP/${2000 + (i % EXTENSIONS)}-0000${i.toString(16)}`, uniqueid: `1795264997.${i}` },
  });
  const warm = Math.min(2000, N / 10);
  let i = 0;
  const batchOf = () => Array.from({ length: BATCH }, () => ({ request: request(i++), startedAt: process.hrtime.bigint() }));
  while (i < warm) await guard.authorizeBatch(batchOf());
  const sizeBefore = checkpointedSize(path);
  const from = i;
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  while (i < from + N) {
    const outcomes = await guard.authorizeBatch(batchOf());
    for (const o of outcomes) if (!o.ok) throw o.error;
  }
  const us = Number(process.hrtime.bigint() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuUs = cpu.user + cpu.system;
  const decided = i - from;
  await store.close();
  const bytes = (checkpointedSize(path) - sizeBefore) / decided;
  console.log(`${name.padEnd(5)} ${decided} decisions: ${Math.round((decided / us) * 1e6)} decisions/s, ${(us / decided).toFixed(1)} µs/decision (CPU ${(cpuUs / decided).toFixed(1)} µs), ${Math.round(bytes)} bytes/decision`);
  if (process.env.KEEP_DB) console.log(path); else rmSync(dir, { recursive: true, force: true });
}

function checkpointedSize(path: string): number {
  const db = new Database(path);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return statSync(path).size;
}

await run('many', true);
await run('one', false);
