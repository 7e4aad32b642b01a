/**
 * npm run bench: dialguard serve against a null FastAGI responder, in the same run, on this
 * machine. Prints decisions/s and latency for both, the ratio, the guard's RSS before and
 * after 100,000 decisions (reservations left active), the WAL's largest size over those
 * decisions, and the CPU each side used.
 *
 * Then a burst of connections opened at once against guards with the shipped session cap and
 * listen backlog (connection-flood.ts).
 *
 * `npm run bench -- --store postgres` also runs the same load against a guard on PostgreSQL and
 * against two guards sharing it (sessions alternate between them), beside the SQLite guard and
 * against the same null responder: a throwaway cluster of this machine, or BENCH_POSTGRES_URL's
 * server.
 *
 * Options (env): BENCH_MAX_SESSIONS (20000), BENCH_CONCURRENCY (16), BENCH_RATE (200),
 * BENCH_RATE_SECONDS (15), BENCH_RSS_DECISIONS (100000), BENCH_FLOOD_CONNECTIONS (2000),
 * BENCH_FLOOD_CAPS (session caps to flood, "1024,256"); BENCH_CPU_PROF=DIR writes a CPU profile
 * of the guard there.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { getCountries, getCountryCallingCode } from 'libphonenumber-js/max';
import { validateDocument } from '../../src/policy/document.js';
import { openStore } from '../../src/store/open-store.js';
import { authorizeEnv } from '../../test/support/asterisk-agi.js';
import { percentile, runFixedRate, runMaxRate, type RunResult } from './asterisk-load.js';
import { floodRows, runConnectionFlood } from './connection-flood.js';
import { benchDatabase } from './postgres-database.js';
import { sampleWal } from './wal-size.js';

const root = resolve(import.meta.dirname, '../..');
const num = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);
const MAX_SESSIONS = num('BENCH_MAX_SESSIONS', 20_000);
const CONCURRENCY = num('BENCH_CONCURRENCY', 16);
const RATE = num('BENCH_RATE', 200);
const RATE_SECONDS = num('BENCH_RATE_SECONDS', 15);
const RSS_DECISIONS = num('BENCH_RSS_DECISIONS', 100_000);
const FLOOD_CONNECTIONS = num('BENCH_FLOOD_CONNECTIONS', 2000);
const FLOOD_CAPS = (process.env.BENCH_FLOOD_CAPS ?? '1024,256').split(',').map(Number);
const storeFlag = process.argv.indexOf('--store');
const STORE = storeFlag >= 0 ? process.argv[storeFlag + 1] : 'sqlite';
if (STORE !== 'sqlite' && STORE !== 'postgres') throw new Error(`--store ${STORE}: sqlite or postgres`);
const EXTENSIONS = 2000;

// ---- a realistic site: a policy per department, a full rate table, a workload of many numbers
function sitePolicy(): unknown {
  const extensions: Record<string, unknown> = {};
  for (let i = 0; i < EXTENSIONS; i++) {
    extensions[`${2000 + i}`] =
      i % 10 === 0
        ? { destinations: { allowCountries: ['US', 'CA', 'GB', 'DE', 'FR', 'MX'] }, voicemailCallout: 'domestic' }
        : i % 7 === 0
          ? { schedule: { appliesTo: 'international', windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], from: '00:00', to: '24:00' }] } }
          : {};
  }
  const rates = [{ prefix: '+', perMinute: 1, increment: 60 }];
  for (const country of getCountries()) {
    const cc = `+${getCountryCallingCode(country)}`;
    if (!rates.some((r) => r.prefix === cc)) rates.push({ prefix: cc, perMinute: 0.05 + (cc.length % 5) / 10, increment: 60 });
  }
  rates.push({ prefix: '+1', perMinute: 0.01, increment: 6 }, { prefix: '+447', perMinute: 0.12, increment: 1 }, { prefix: '+491', perMinute: 0.15, increment: 1 });
  return {
    defaults: {
      destinations: { allowCountries: ['US', 'CA', 'GB', 'DE', 'FR'], blockedPrefixes: ['+88213'] },
      schedule: { timezone: 'America/New_York', appliesTo: 'none', windows: [] },
      geofence: { allowCidrs: ['10.0.0.0/8', '192.168.0.0/16', '198.51.100.0/24'], allowCountries: ['US', 'CA'], unknownSource: 'deny' },
      // Budgets that a busy office does not reach, so that reservations pile up as the RSS target asks.
      budget: { dailySpend: 1e8, monthlySpend: 1e8, dailyMinutes: null, maxConcurrent: null, maxCallSeconds: 3600 },
      // Velocity on and counting every call, with busy-office limits that this run's ~70 calls per
      // extension stay under (a count reads at most `limit` rows, so the limits bound its cost).
      velocity: {
        maxAttemptsPerMinute: 200,
        maxInternationalPerHour: 500,
        maxDistinctDestinationsPerHour: 500,
        maxDeniedPerHour: 500,
        maxNewCountriesPerHour: null,
        lockOnBreach: false,
      },
    },
    extensions,
    rates: rates.filter((r, i, all) => all.findIndex((x) => x.prefix === r.prefix) === i),
  };
}

function workload(): (i: number) => readonly string[] {
  const rnd = mulberry32(42);
  const digits = (n: number): string => Array.from({ length: n }, () => Math.floor(rnd() * 10)).join('');
  const areas = ['212', '312', '415', '617', '202', '305', '713', '206'];
  const numbers: string[] = [];
  for (let i = 0; i < 5000; i++) {
    const r = rnd();
    if (r < 0.7) numbers.push(`1${areas[i % areas.length]}${2 + Math.floor(rnd() * 8)}${digits(6)}`);
    else if (r < 0.8) numbers.push(`01144207946${digits(4)}`);
    else if (r < 0.88) numbers.push(`0114930${digits(8)}`);
    else if (r < 0.93) numbers.push(`18765${digits(6)}`); // Jamaica: denied
    else if (r < 0.97) numbers.push(`1900${2 + Math.floor(rnd() * 8)}${digits(6)}`); // premium: denied
    else numbers.push('911');
  }
  const sources = ['192.168.1.20:5060', '10.1.2.3:5060', '[2001:db8::1]:5060', '8.8.8.8:5060', '80.128.0.1:5060', ''];
  const sourceWeights = [0.5, 0.3, 0.02, 0.1, 0.05, 0.03];
  const pickSource = (): string => {
    let r = rnd();
    for (let i = 0; i < sources.length; i++) if ((r -= sourceWeights[i] as number) < 0) return sources[i] as string;
    return sources[0] as string;
  };
  const envs = numbers.map((number, i) =>
    authorizeEnv({ ext: `${2000 + (i % EXTENSIONS)}`, number, source: pickSource(), origin: i % 50 === 0 ? 'voicemail' : 'phone', uniqueid: `1795264997.${i}` }).map(
      ([k, v]) => `${k}: ${v}\n`,
    ),
  );
  return (i) => envs[i % envs.length] as readonly string[];
}

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---- processes
interface Server {
  name: string;
  child: ChildProcess;
  port: number;
}

function start(name: string, args: string[], ready: RegExp, env: Record<string, string> = {}, nodeArgs: string[] = []): Promise<Server> {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', ...args], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolvePort, reject) => {
    let seen = '';
    const onData = (chunk: Buffer): void => {
      seen += chunk.toString();
      const m = ready.exec(seen);
      if (m) {
        // From here on stdout (the guard logs every decision) is only drained, never parsed.
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        resolvePort({ name, child, port: Number(m[1]) });
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${name} exited ${code}`)));
  });
}

function stop(server: Server): Promise<void> {
  return new Promise((r) => {
    server.child.once('exit', () => r());
    server.child.kill('SIGTERM');
  });
}

function procCpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1]) / 1024;
}

interface Measured extends RunResult {
  serverCpuSeconds: number;
}

/** The run, and the CPU its servers (one guard, or several sharing the load) used meanwhile. */
async function measure(servers: Server | Server[], run: () => Promise<RunResult>): Promise<Measured> {
  const pids = [servers].flat().map((s) => s.child.pid as number);
  const cpu = (): number => pids.reduce((sum, pid) => sum + procCpuSeconds(pid), 0);
  const cpu0 = cpu();
  const result = await run();
  return { ...result, serverCpuSeconds: cpu() - cpu0 };
}

function row(label: string, r: Measured): Record<string, string | number> {
  const sorted = [...r.latenciesMs].sort((a, b) => a - b);
  return {
    run: label,
    sessions: r.sessions,
    'decisions/s': Math.round(r.sessions / r.seconds),
    'p50 ms': +percentile(sorted, 50).toFixed(2),
    'p99 ms': +percentile(sorted, 99).toFixed(2),
    'max ms': +(sorted[sorted.length - 1] ?? NaN).toFixed(2),
    'server CPU %': Math.round((r.serverCpuSeconds / r.seconds) * 100),
    'generator CPU %': Math.round((r.generatorCpuSeconds / r.seconds) * 100),
  };
}

// ---- the run
const dir = mkdtempSync(join(tmpdir(), 'dialguard-bench-'));
const dbPath = join(dir, 'bench.db');
async function seed(database: string): Promise<void> {
  const store = await openStore({ database, lockWaitMs: 5000, reservationGraceSeconds: 300 });
  try {
    await store.importDocument(validateDocument(sitePolicy()), 'bench', () => undefined);
    // The site circuit breaker would open on the bench's international spend within seconds.
    await store.setCircuitBreakerLimit(null, 'bench', new Date());
  } finally {
    await store.close();
  }
}
await seed(dbPath);
const env = workload();

const GUARD_READY = /FastAGI listening on [^\n]*:(\d+)\n/;
const guardEnv = {
  DIALGUARD_DB: dbPath,
  DIALGUARD_AGI_LISTEN: '127.0.0.1:0',
  DIALGUARD_HTTP_LISTEN: '127.0.0.1:0',
  DIALGUARD_HOME_COUNTRY: 'US',
  DIALGUARD_TIMEZONE: 'America/New_York',
};
const guard = await start('guard', ['src/cli/bin.ts', 'serve'], GUARD_READY, { ...guardEnv, DIALGUARD_AGI_MAX_CONNECTIONS: '4096' }, process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []);
const nullServer = await start('null', ['scripts/bench/null-agi.ts'], /listening (\d+)\n/);

process.stdout.write(`dialguard benchmark: ${MAX_SESSIONS} sessions at maximum rate (${CONCURRENCY} in flight), ${RATE}/s for ${RATE_SECONDS} s, RSS over ${RSS_DECISIONS} decisions\n`);
// Warm both up (JIT, caches, the policy compiled) before measuring.
await runMaxRate(guard.port, 2000, CONCURRENCY, env);
await runMaxRate(nullServer.port, 2000, CONCURRENCY, env);

const rows: Record<string, string | number>[] = [];
const maxNull = await measure(nullServer, () => runMaxRate(nullServer.port, MAX_SESSIONS, CONCURRENCY, env));
const maxGuard = await measure(guard, () => runMaxRate(guard.port, MAX_SESSIONS, CONCURRENCY, env));
const rateNull = await measure(nullServer, () => runFixedRate(nullServer.port, RATE, RATE_SECONDS, env));
const rateGuard = await measure(guard, () => runFixedRate(guard.port, RATE, RATE_SECONDS, env));
rows.push(row('null, max rate', maxNull), row('guard, max rate', maxGuard), row(`null, ${RATE}/s`, rateNull), row(`guard, ${RATE}/s`, rateGuard));

/** Guard rows against the null rows of this run: decisions/s at maximum rate, p99 at the fixed rate. */
const ratios = (max: Measured, rate: Measured) => ({
  maxRateRatio: +(Math.round(max.sessions / max.seconds) / (rows[0]!['decisions/s'] as number)).toFixed(3),
  p99RatioAt200: +((row('', rate)['p99 ms'] as number) / (rows[2]!['p99 ms'] as number)).toFixed(3),
});
const postgres = STORE === 'postgres' ? await benchPostgres() : null;
console.table(rows);

const ratio = rows[1]!['decisions/s'] as number / (rows[0]!['decisions/s'] as number);
const p99Ratio = (rows[3]!['p99 ms'] as number) / (rows[2]!['p99 ms'] as number);

/** One guard on PostgreSQL, then two sharing it, under the same load as the SQLite guard. */
async function benchPostgres() {
  const database = await benchDatabase();
  try {
    await seed(database.url);
    const pgEnv = { ...guardEnv, DIALGUARD_DB: database.url, DIALGUARD_AGI_MAX_CONNECTIONS: '4096' };
    const first = await start('guard (postgres)', ['src/cli/bin.ts', 'serve'], GUARD_READY, pgEnv);
    await runMaxRate(first.port, 2000, CONCURRENCY, env);
    const maxOne = await measure(first, () => runMaxRate(first.port, MAX_SESSIONS, CONCURRENCY, env));
    const rateOne = await measure(first, () => runFixedRate(first.port, RATE, RATE_SECONDS, env));
    const second = await start('guard 2 (postgres)', ['src/cli/bin.ts', 'serve'], GUARD_READY, pgEnv);
    const both = [first.port, second.port];
    await runMaxRate(both, 2000, CONCURRENCY, env);
    const maxTwo = await measure([first, second], () => runMaxRate(both, MAX_SESSIONS, CONCURRENCY, env));
    const rateTwo = await measure([first, second], () => runFixedRate(both, RATE, RATE_SECONDS, env));
    await Promise.all([stop(first), stop(second)]);
    rows.push(
      row('postgres guard, max rate', maxOne),
      row(`postgres guard, ${RATE}/s`, rateOne),
      row('2 postgres guards, max rate', maxTwo),
      row(`2 postgres guards, ${RATE}/s`, rateTwo),
    );
    return { oneGuard: ratios(maxOne, rateOne), twoGuards: ratios(maxTwo, rateTwo) };
  } finally {
    await database.close();
  }
}

// RSS over RSS_DECISIONS more decisions, none settled: every ALLOW leaves an active reservation.
// The V8 heap grows and shrinks with garbage collection, so RSS is sampled through each block
// and the peak of the first block is compared with the peak of the last.
const pid = guard.child.pid as number;
const rssBefore = rssMb(pid);
const blocks: number[] = [];
const blockPeaks: number[] = [];
const BLOCK = 10_000;
const wal = sampleWal(dbPath);
for (let done = 0; done < RSS_DECISIONS; done += BLOCK) {
  let peak = rssMb(pid);
  const sampler = setInterval(() => (peak = Math.max(peak, rssMb(pid))), 200);
  const r = await runMaxRate(guard.port, Math.min(BLOCK, RSS_DECISIONS - done), CONCURRENCY, (i) => env(i + done));
  clearInterval(sampler);
  blocks.push(Math.round(r.sessions / r.seconds));
  blockPeaks.push(Math.round(Math.max(peak, rssMb(pid))));
}
const rssAfter = rssMb(pid);
const walPeakMb = wal.stop();
const activeReservations = readActive(dbPath);

await stop(guard);
await stop(nullServer);

// A burst of connections at once, against the shipped cap and backlog (and the caps asked for).
const floods: Record<string, ReturnType<typeof floodRows>> = {};
for (const cap of FLOOD_CAPS) {
  const flooded = await start(`guard, cap ${cap}`, ['src/cli/bin.ts', 'serve'], GUARD_READY, { ...guardEnv, DIALGUARD_AGI_MAX_CONNECTIONS: String(cap) });
  const rowsOfCap = floodRows(await runConnectionFlood(flooded.port, env, { connections: FLOOD_CONNECTIONS, probes: 20, probeEveryMs: 100 }));
  await stop(flooded);
  process.stdout.write(`\n${FLOOD_CONNECTIONS} connections at once against DIALGUARD_AGI_MAX_CONNECTIONS=${cap}, 20 probe sessions 100 ms apart:\n`);
  console.table(rowsOfCap);
  floods[String(cap)] = rowsOfCap;
}

const summary = {
  maxRateRatio: +ratio.toFixed(3),
  p99RatioAt200: +p99Ratio.toFixed(3),
  rssBeforeMb: +rssBefore.toFixed(1),
  rssAfterMb: +rssAfter.toFixed(1),
  rssGrowthMb: +(rssAfter - rssBefore).toFixed(1),
  rssPeakPerBlockMb: blockPeaks,
  peakGrowthFirstToLastBlockMb: (blockPeaks.at(-1) ?? 0) - (blockPeaks[0] ?? 0),
  activeReservations,
  decisionsPerSecondPer10k: blocks,
  ...(postgres ? { postgres } : {}),
  walPeakMb: +walPeakMb.toFixed(1),
};
process.stdout.write(
  [
    '',
    `guard/null decisions/s at maximum rate: ${summary.maxRateRatio} (target >= 0.8)`,
    `guard/null p99 at ${RATE}/s: ${summary.p99RatioAt200} (target <= 2)`,
    `guard RSS ${summary.rssBeforeMb} MB -> ${summary.rssAfterMb} MB over ${RSS_DECISIONS} decisions (${summary.rssGrowthMb} MB); peak per block of ${BLOCK}: ${blockPeaks.join(', ')} MB, first to last ${summary.peakGrowthFirstToLastBlockMb} MB (target < 20); ${summary.activeReservations} reservations active`,
    `decisions/s per block of ${BLOCK} as reservations pile up: ${blocks.join(', ')}`,
    ...(postgres
      ? [
          `postgres guard/null decisions/s at maximum rate: ${postgres.oneGuard.maxRateRatio}; p99 at ${RATE}/s: ${postgres.oneGuard.p99RatioAt200}`,
          `2 postgres guards/null decisions/s at maximum rate: ${postgres.twoGuards.maxRateRatio}; p99 at ${RATE}/s: ${postgres.twoGuards.p99RatioAt200}`,
        ]
      : []),
    `WAL largest over ${RSS_DECISIONS} decisions at maximum rate: ${summary.walPeakMb} MB (target <= 64)`,
    '',
  ].join('\n'),
);
mkdirSync(join(root, 'bench-results'), { recursive: true });
writeFileSync(join(root, 'bench-results', 'latest.json'), `${JSON.stringify({ rows, summary, floods, at: new Date().toISOString() }, null, 2)}\n`);
rmSync(dir, { recursive: true, force: true });

function readActive(path: string): number {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare(`SELECT COUNT(*) FROM reservations WHERE status = 'active'`).pluck().get() as number;
  } finally {
    db.close();
  }
}
