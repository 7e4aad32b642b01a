/**
 * A second guard process for the atomicity tests of the store contract: opens the database
 * (DIALGUARD_DB, any store `openStore` knows), says "ready", waits for "go" on stdin, then
 * authorizes COUNT calls as fast as it can and prints one JSON line with the results.
 */
import { createInterface } from 'node:readline';
import { openGeoIp } from '../../src/geo/geoip.js';
import { createGuard } from '../../src/guard/guard.js';
import { openStore } from '../../src/store/open-store.js';

const [database, countText, number, worker] = process.argv.slice(2) as [string, string, string, string];
const store = await openStore({ database, lockWaitMs: 5000, reservationGraceSeconds: 300 });
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
