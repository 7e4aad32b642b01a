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
import { openGeoIp } from '../src/geo/geoip.js';
import { createGuard } from '../src/guard/guard.js';
import { validateDocument } from '../src/policy/document.js';
import { openStore } from '../src/store/open-store.js';
import { request, site } from './store-workload.js';

const N = Number(process.argv[2] ?? 20_000);
const BATCH = Number(process.argv[3] ?? 16);
const EXTENSIONS = 2000;

async function run(name: string, busy: boolean): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'dialguard-timing-'));
  const path = join(dir, 'dialguard.db');
  const store = await openStore({ database: path, lockWaitMs: 200, reservationGraceSeconds: 300 });
  await store.importDocument(validateDocument(site(busy)), 'timing', () => undefined);
  const guard = createGuard({ store, homeCountry: 'US', timezone: 'America/New_York', geoip: openGeoIp() });
  const warm = Math.min(2000, N / 10);
  let i = 0;
  const batchOf = () => Array.from({ length: BATCH }, () => ({ request: request(i++, busy ? EXTENSIONS : 1), startedAt: process.hrtime.bigint() }));
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
