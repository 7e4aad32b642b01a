/**
 * A second guard process for the atomicity tests: opens the same database file, says
 * "ready", waits for "go" on stdin, then authorizes COUNT calls as fast as it can and prints
 * one JSON line with the results.
 */
import { createInterface } from 'node:readline';
import { openGeoIp } from '../../src/geo/geoip.js';
import { createGuard } from '../../src/guard/guard.js';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.js';

const [dbPath, countText, number, worker] = process.argv.slice(2) as [string, string, string, string];
const store = createSqliteStore({ path: dbPath, busyTimeoutMs: 5000 });
const guard = createGuard({ store, homeCountry: 'US', timezone: 'America/New_York', geoip: openGeoIp() });

process.stdout.write('ready\n');
const rl = createInterface({ input: process.stdin });
rl.once('line', async () => {
  const results: Array<{ result: string; reason: string; reserved: number }> = [];
  for (let i = 0; i < Number(countText); i++) {
    const d = await guard.authorize({
      extension: '1001',
      dialled: number,
      source: '10.0.0.5:5060',
      origin: 'phone',
      at: new Date(),
      transport: 'cli',
      meta: { worker, i: String(i) },
    });
    results.push({ result: d.result, reason: d.reason, reserved: d.grant?.costMicros ?? 0 });
  }
  process.stdout.write(`${JSON.stringify(results)}\n`);
  rl.close();
  await store.close();
});
