/**
 * CPU of the SQLite decision path (store + engine) of several checkouts, measured in one process
 * with their batches interleaved, so that the load of a shared machine falls on each alike (one
 * run after another, the same code differed by 10% here). Each checkout's own modules open its
 * own database (a fresh file, created as that checkout creates it) and decide the same requests
 * (store-workload.ts: busy-office limits, `extensions` in turn), in batches of 16; each batch's
 * process.cpuUsage() is charged to its checkout, after 4,000 decisions of warm-up each.
 *
 *   node --import tsx scripts/store-ab.ts [decisions=16000] [extensions=2000] CHECKOUT...
 *
 * Name a checkout more than once to see how far the same code's rounds differ.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { AuthorizeOutcome } from '../src/store/roles/decisions.js';
import { request, site } from './store-workload.js';

const [decisionsText, extensionsText, ...checkouts] = process.argv.slice(2);
const N = Number(decisionsText ?? 16_000);
const EXTENSIONS = Number(extensionsText ?? 2000);
const WARM = 4000;
const BATCH = 16;

interface Side {
  checkout: string;
  dir: string;
  authorizeBatch(items: Array<{ request: ReturnType<typeof request>; startedAt: bigint }>): Promise<AuthorizeOutcome[]>;
  close(): Promise<void>;
  next: number;
  cpuUs: number;
}

const sides: Side[] = [];
for (const checkout of checkouts.map((c) => resolve(c))) {
  // Another checkout's modules, typed as this one's: the roles they are called through are the same.
  const { openGeoIp } = (await import(`${checkout}/src/geo/geoip.ts`)) as typeof import('../src/geo/geoip.js');
  const { createGuard } = (await import(`${checkout}/src/guard/guard.ts`)) as typeof import('../src/guard/guard.js');
  const { validateDocument } = (await import(`${checkout}/src/policy/document.ts`)) as typeof import('../src/policy/document.js');
  const { openStore } = (await import(`${checkout}/src/store/open-store.ts`)) as typeof import('../src/store/open-store.js');
  const dir = mkdtempSync(join(tmpdir(), 'dialguard-ab-'));
  const store = await openStore({ database: join(dir, 'dialguard.db'), lockWaitMs: 200, reservationGraceSeconds: 300 });
  await store.importDocument(validateDocument(site(true)), 'ab', () => undefined);
  const guard = createGuard({ store, homeCountry: 'US', timezone: 'America/New_York', geoip: openGeoIp() });
  sides.push({ checkout, dir, authorizeBatch: guard.authorizeBatch, close: () => store.close(), next: 0, cpuUs: 0 });
}

for (let b = 0; sides.some((s) => s.next < WARM + N); b++) {
  const side = sides[b % sides.length] as Side;
  const batch = Array.from({ length: BATCH }, () => ({ request: request(side.next++, EXTENSIONS), startedAt: process.hrtime.bigint() }));
  const cpu0 = process.cpuUsage();
  const outcomes = await side.authorizeBatch(batch);
  const cpu = process.cpuUsage(cpu0);
  for (const o of outcomes) if (!o.ok) throw o.error;
  if (side.next > WARM) side.cpuUs += cpu.user + cpu.system;
}
for (const side of sides) {
  console.log(`${side.checkout}: ${(side.cpuUs / (side.next - WARM)).toFixed(1)} µs CPU/decision (${side.next - WARM} decisions, ${EXTENSIONS} extensions)`);
  await side.close();
  rmSync(side.dir, { recursive: true, force: true });
}
