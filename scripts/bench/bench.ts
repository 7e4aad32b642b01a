/**
 * npm run bench: issue 13's table, measured on this machine in one run. A load generator in C
 * (agi-load.c, compiled here with `cc`) plays Asterisk 22 byte for byte against `dialguard serve`
 * (SQLite, the bench's site: 2,000 extensions, budget and velocity checks on at busy-office
 * limits) and against the null responder (null-agi.ts: the project's FastAGI server code doing
 * the same seven SET VARIABLEs and nothing else), ALTERNATED in rounds so that both see the same
 * machine: null, guard, null, guard... Each value is the median over the rounds; each ratio is
 * the median of the rounds' own ratios (a guard run against the null run next to it).
 *
 *   sessions/s at 16 in flight        null, guard, ratio        target >= 0.4 (stretch 0.8)
 *   p99 at 200 sessions/s             null, guard, ratio        target <= 2
 *   RSS of the guard after the run    VmRSS (VmHWM)             target <= 120 MB
 *   RSS once idle                     the lowest VmRSS of IDLE_SECONDS after the run (no target:
 *                                     what V8's memory reducer gives back once the load stops)
 *   one extension, highest limits     its rate / the 2,000's    target >= 0.95 (site.ts: spend 1e8, velocity 1e5)
 *   database bytes per decision       (DB + WAL after a TRUNCATE checkpoint) growth / decisions   target <= 1,000
 *
 * Parts (`--only a,b,...`; default `table`):
 *   table     the table above;
 *   profile   (also `--profile`) the guard under `node --cpu-prof`, PROFILE_SECONDS at 16 in
 *             flight, the top 15 entries by self time (cpuprofile-top.ts);
 *   rss       RSS and WAL over BENCH_RSS_DECISIONS decisions whose reservations stay active;
 *   flood     a burst of connections at once against the shipped session cap (connection-flood.ts);
 *   postgres  (also `--store postgres`) a guard on PostgreSQL and two sharing it, beside the null
 *             responder: a throwaway cluster of this machine, or BENCH_POSTGRES_URL's server.
 *
 * Options (env): BENCH_ROUNDS (3), BENCH_CONCURRENCY (16), BENCH_MAX_SECONDS (5, per max-rate
 * run), BENCH_RATE (200), BENCH_RATE_SECONDS (10), BENCH_IDLE_SECONDS (30), BENCH_PROFILE_SECONDS (6),
 * BENCH_RSS_DECISIONS (100000), BENCH_FLOOD_CONNECTIONS (2000), BENCH_FLOOD_CAPS ("1024,256").
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { compileAgiLoad, runAgiLoad, writeTemplates, type AgiLoadMode, type AgiLoadResult } from './agi-load.js';
import { floodRows, runConnectionFlood } from './connection-flood.js';
import { formatSummary, summarize, type CpuProfile, type ProfileSummary } from './cpuprofile-top.js';
import { benchDatabase } from './postgres-database.js';
import { buildGuard, guardEnv, memoryMb, procCpuSeconds, startGuard, startNull, stop, type Server } from './servers.js';
import { ONE_EXTENSION, seedSite, workload } from './site.js';
import { sampleWal } from './wal-size.js';

const root = resolve(import.meta.dirname, '../..');
const num = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);
const ROUNDS = num('BENCH_ROUNDS', 3);
const CONCURRENCY = num('BENCH_CONCURRENCY', 16);
const MAX_SECONDS = num('BENCH_MAX_SECONDS', 5);
const RATE = num('BENCH_RATE', 200);
const RATE_SECONDS = num('BENCH_RATE_SECONDS', 10);
const PROFILE_SECONDS = num('BENCH_PROFILE_SECONDS', 6);
const IDLE_SECONDS = num('BENCH_IDLE_SECONDS', 30);
const RSS_DECISIONS = num('BENCH_RSS_DECISIONS', 100_000);
const FLOOD_CONNECTIONS = num('BENCH_FLOOD_CONNECTIONS', 2000);
const FLOOD_CAPS = (process.env.BENCH_FLOOD_CAPS ?? '1024,256').split(',').map(Number);

const PARTS = ['table', 'profile', 'rss', 'flood', 'postgres'] as const;
type Part = (typeof PARTS)[number];
const argv = process.argv.slice(2);
const flagValue = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const store = flagValue('--store') ?? 'sqlite';
if (store !== 'sqlite' && store !== 'postgres') throw new Error(`--store ${store}: sqlite or postgres`);
const parts = new Set<Part>();
for (const p of (flagValue('--only') ?? 'table').split(',')) {
  if (!(PARTS as readonly string[]).includes(p)) throw new Error(`--only ${p}: one of ${PARTS.join(', ')}`);
  parts.add(p as Part);
}
if (argv.includes('--profile')) parts.add('profile');
if (store === 'postgres') parts.add('postgres');

// ---- shared set-up: the generator, the traffic, a seeded database
const dir = mkdtempSync(join(tmpdir(), 'dialguard-bench-'));
const agiLoad = compileAgiLoad(dir);
buildGuard();
const manyTemplates = writeTemplates(join(dir, 'many.env'), workload());
const oneTemplates = writeTemplates(join(dir, 'one.env'), workload(ONE_EXTENSION));
/** Where each template file's traffic goes on, so that no two runs replay the same sessions. */
const offsets = new Map<string, number>();

interface Measured {
  load: AgiLoadResult;
  serverCpuSeconds: number;
}

/** One agi-load run against `servers`, and the CPU they used meanwhile. */
async function measure(servers: Server | Server[], templates: string, mode: AgiLoadMode): Promise<Measured> {
  const list = [servers].flat();
  const cpu = (): number => list.reduce((sum, s) => sum + procCpuSeconds(s.child.pid as number), 0);
  const cpu0 = cpu();
  const offset = offsets.get(templates) ?? 0;
  const load = await runAgiLoad(agiLoad, templates, list.map((s) => s.port), mode, offset);
  offsets.set(templates, offset + load.started);
  return { load, serverCpuSeconds: cpu() - cpu0 };
}

function row(label: string, m: Measured): Record<string, string | number> {
  const errors = Object.entries(m.load.errors).filter(([, n]) => n > 0);
  return {
    run: label,
    sessions: m.load.sessions,
    'sessions/s': Math.round(m.load.rate),
    'p50 ms': +m.load.latencyMs.p50.toFixed(2),
    'p99 ms': +m.load.latencyMs.p99.toFixed(2),
    'max ms': +m.load.latencyMs.max.toFixed(2),
    'server CPU %': Math.round((m.serverCpuSeconds / m.load.seconds) * 100),
    'generator CPU %': Math.round((m.load.cpuSeconds.total / m.load.seconds) * 100),
    errors: errors.length ? errors.map(([k, n]) => `${k} ${n}`).join(', ') : 0,
  };
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');

/** The database's size on disk once its WAL is checkpointed into it and truncated. */
function checkpointedBytes(dbPath: string): number {
  const db = new Database(dbPath);
  try {
    db.pragma('busy_timeout = 5000');
    for (let attempt = 0; ; attempt++) {
      const [result] = db.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>;
      if (result?.busy === 0) break;
      if (attempt === 50) throw new Error(`${dbPath}: the WAL checkpoint stayed busy`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
  } finally {
    db.close();
  }
  const size = (path: string): number => {
    try {
      return statSync(path).size;
    } catch {
      return 0;
    }
  };
  return size(dbPath) + size(`${dbPath}-wal`);
}

async function seededGuard(name: string, nodeArgs: string[] = []): Promise<{ guard: Server; dbPath: string }> {
  const dbPath = join(mkdtempSync(join(dir, 'db-')), 'bench.db');
  await seedSite(dbPath);
  return { guard: await startGuard(name, guardEnv(dbPath), nodeArgs), dbPath };
}

const results: Record<string, unknown> = { at: new Date().toISOString(), loadAverageAtStart: loadavg() };
process.stdout.write(`dialguard benchmark (${[...parts].join(', ')}); load average at start ${load()} on ${availableParallelism()} cores\n`);

// ---- the table
async function table(): Promise<void> {
  const { guard, dbPath } = await seededGuard('guard');
  const nullServer = await startNull();
  const max: AgiLoadMode = { concurrency: CONCURRENCY, seconds: MAX_SECONDS };
  const fixed: AgiLoadMode = { rate: RATE, seconds: RATE_SECONDS };
  process.stdout.write(
    `\nThe table: ${ROUNDS} rounds alternating null and guard, ${MAX_SECONDS} s at ${CONCURRENCY} in flight each, then ${RATE_SECONDS} s at ${RATE}/s each; traffic from 2,000 extensions in turn (and from extension ${ONE_EXTENSION} alone, its limits the policy's highest: spend 1e8, velocity 1e5)\n`,
  );
  // Warm both up (JIT, caches, the policy compiled) before measuring.
  await measure(guard, manyTemplates, { concurrency: CONCURRENCY, seconds: 3 });
  await measure(guard, oneTemplates, { concurrency: CONCURRENCY, seconds: 1 });
  await measure(nullServer, manyTemplates, { concurrency: CONCURRENCY, seconds: 2 });

  const bytesBefore = checkpointedBytes(dbPath);
  let decisions = 0;
  const guardRun = async (templates: string, mode: AgiLoadMode): Promise<Measured> => {
    const m = await measure(guard, templates, mode);
    decisions += m.load.sessions;
    return m;
  };
  const rows: Record<string, string | number>[] = [];
  const rounds: Array<{ nullMax: Measured; guardMax: Measured; oneMax: Measured; nullRate?: Measured; guardRate?: Measured }> = [];
  for (let r = 0; r < ROUNDS; r++) {
    const nullMax = await measure(nullServer, manyTemplates, max);
    const guardMax = await guardRun(manyTemplates, max);
    const oneMax = await guardRun(oneTemplates, max);
    rounds.push({ nullMax, guardMax, oneMax });
    rows.push(row(`${r + 1} null, ${CONCURRENCY} in flight`, nullMax), row(`${r + 1} guard, ${CONCURRENCY} in flight`, guardMax), row(`${r + 1} guard, one extension`, oneMax));
  }
  for (const round of rounds) {
    round.nullRate = await measure(nullServer, manyTemplates, fixed);
    round.guardRate = await guardRun(manyTemplates, fixed);
    const r = rounds.indexOf(round) + 1;
    rows.push(row(`${r} null, ${RATE}/s`, round.nullRate), row(`${r} guard, ${RATE}/s`, round.guardRate));
  }
  const bytesAfter = checkpointedBytes(dbPath);
  const memory = memoryMb(guard.child.pid as number);
  const idleRss = await lowestRss(guard.child.pid as number, IDLE_SECONDS);
  await stop(guard);
  await stop(nullServer);
  console.table(rows);

  const rate = (m: Measured): number => m.load.rate;
  const p99 = (m?: Measured): number => m?.load.latencyMs.p99 ?? NaN;
  const nullRate = median(rounds.map((r) => rate(r.nullMax)));
  const guardRate = median(rounds.map((r) => rate(r.guardMax)));
  const throughputRatio = median(rounds.map((r) => rate(r.guardMax) / rate(r.nullMax)));
  const nullP99 = median(rounds.map((r) => p99(r.nullRate)));
  const guardP99 = median(rounds.map((r) => p99(r.guardRate)));
  const p99Ratio = median(rounds.map((r) => p99(r.guardRate) / p99(r.nullRate)));
  const oneRate = median(rounds.map((r) => rate(r.oneMax)));
  const oneRatio = median(rounds.map((r) => rate(r.oneMax) / rate(r.guardMax)));
  const bytesPerDecision = (bytesAfter - bytesBefore) / decisions;
  const errors = rounds.flatMap((r) => [r.nullMax, r.guardMax, r.oneMax, r.nullRate, r.guardRate]).reduce((n, m) => n + Object.values(m?.load.errors ?? {}).reduce((a, b) => a + b, 0), 0);

  const verdict = (met: boolean): string => (met ? 'met' : 'NOT MET');
  const f = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  const lines = [
    '| | null responder | dialguard | ratio / value | target | |',
    '| --- | --- | --- | --- | --- | --- |',
    `| sessions/s at ${CONCURRENCY} in flight | ${f(nullRate)} | ${f(guardRate)} | ${throughputRatio.toFixed(2)}× | ≥ 0.4× (stretch 0.8×) | ${verdict(throughputRatio >= 0.4)}${throughputRatio >= 0.8 ? ', stretch met' : ''} |`,
    `| p99 at ${RATE} sessions/s | ${f(nullP99, 2)} ms | ${f(guardP99, 2)} ms | ${p99Ratio.toFixed(2)}× | ≤ 2× | ${verdict(p99Ratio <= 2)} |`,
    `| RSS after the run | — | ${f(memory.rss)} MB (peak ${f(memory.hwm)} MB) | ${f(memory.rss)} MB | ≤ 120 MB | ${verdict(memory.rss <= 120)} |`,
    `| RSS once idle (lowest of the ${IDLE_SECONDS} s after the run) | — | ${f(idleRss)} MB | ${f(idleRss)} MB | — (the row above is the target) | |`,
    `| one extension with limits of 10⁸ (velocity: 10⁵, the policy's maximum) | — | ${f(oneRate)} sessions/s | ${oneRatio.toFixed(2)}× of the 2,000 extensions' | ≥ 0.95× | ${verdict(oneRatio >= 0.95)} |`,
    `| database bytes per decision | — | ${f(bytesAfter - bytesBefore)} B over ${f(decisions)} decisions | ${f(bytesPerDecision)} B | ≤ 1,000 | ${verdict(bytesPerDecision <= 1000)} |`,
  ];
  process.stdout.write(
    `\nIssue 13's table (medians over ${ROUNDS} alternated rounds; ratios are medians of each round's guard/null ratio), load average now ${load()}:\n${lines.join('\n')}\n` +
      (errors > 0 ? `\n${errors} sessions failed (see the errors column above): the numbers are suspect.\n` : ''),
  );
  results.table = {
    rows,
    nullRate,
    guardRate,
    throughputRatio,
    nullP99,
    guardP99,
    p99Ratio,
    rssMb: memory.rss,
    idleRssMb: idleRss,
    hwmMb: memory.hwm,
    oneRate,
    oneRatio,
    bytesPerDecision,
    decisions,
    errors,
  };
}

/**
 * V8 gives the heap it grew under load back only once the process has been idle for a while
 * (its memory reducer, about 10-20 s here), so the RSS at the end of a run and once idle differ.
 */
async function lowestRss(pid: number, seconds: number): Promise<number> {
  let lowest = memoryMb(pid).rss;
  for (let s = 0; s < seconds; s++) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    lowest = Math.min(lowest, memoryMb(pid).rss);
  }
  return lowest;
}

// ---- the profile
async function profile(): Promise<void> {
  const profDir = join(dir, 'cpu-profile');
  const { guard } = await seededGuard('guard (profiled)', ['--cpu-prof', `--cpu-prof-dir=${profDir}`]);
  await measure(guard, manyTemplates, { concurrency: CONCURRENCY, seconds: 2 });
  const fromUs = Number(process.hrtime.bigint() / 1000n);
  const m = await measure(guard, manyTemplates, { concurrency: CONCURRENCY, seconds: PROFILE_SECONDS });
  const toUs = Number(process.hrtime.bigint() / 1000n);
  await stop(guard);
  const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no .cpuprofile in ${profDir}`);
  const text = readFileSync(join(profDir, file), 'utf8');
  // Kept for a closer look (Chrome DevTools, or cpuprofile-top.ts with the printed window).
  mkdirSync(join(root, 'bench-results'), { recursive: true });
  writeFileSync(join(root, 'bench-results', 'guard.cpuprofile'), text);
  const summary: ProfileSummary = summarize(JSON.parse(text) as CpuProfile, 15, { fromUs, toUs });
  process.stdout.write(
    `\nCPU profile of serve (node --cpu-prof), ${PROFILE_SECONDS} s at ${CONCURRENCY} in flight, ${Math.round(m.load.rate)} sessions/s, serve's CPU ${Math.round((m.serverCpuSeconds / m.load.seconds) * 100)} %, load average ${load()} (bench-results/guard.cpuprofile, window --from-us ${fromUs} --to-us ${toUs}):\n${formatSummary(summary)}`,
  );
  results.profile = { rate: m.load.rate, summary };
}

// ---- RSS and WAL over many decisions, none settled: every ALLOW leaves an active reservation.
// The V8 heap grows and shrinks with garbage collection, so RSS is sampled through each block and
// the peak of the first block is compared with the peak of the last.
async function rss(): Promise<void> {
  const { guard, dbPath } = await seededGuard('guard');
  const pid = guard.child.pid as number;
  await measure(guard, manyTemplates, { concurrency: CONCURRENCY, seconds: 2 });
  const before = memoryMb(pid).rss;
  const BLOCK = 10_000;
  const blocks: number[] = [];
  const blockPeaks: number[] = [];
  const wal = sampleWal(dbPath);
  for (let done = 0; done < RSS_DECISIONS; done += BLOCK) {
    let peak = memoryMb(pid).rss;
    const sampler = setInterval(() => (peak = Math.max(peak, memoryMb(pid).rss)), 200);
    const m = await measure(guard, manyTemplates, { concurrency: CONCURRENCY, sessions: Math.min(BLOCK, RSS_DECISIONS - done) });
    clearInterval(sampler);
    blocks.push(Math.round(m.load.rate));
    blockPeaks.push(Math.round(Math.max(peak, memoryMb(pid).rss)));
  }
  const after = memoryMb(pid);
  const walPeakMb = wal.stop();
  await stop(guard);
  const active = readActive(dbPath);
  process.stdout.write(
    [
      '',
      `guard RSS ${before.toFixed(1)} MB -> ${after.rss.toFixed(1)} MB (peak ${after.hwm.toFixed(1)} MB) over ${RSS_DECISIONS} decisions; peak per block of ${BLOCK}: ${blockPeaks.join(', ')} MB, first to last ${(blockPeaks.at(-1) ?? 0) - (blockPeaks[0] ?? 0)} MB (target < 20); ${active} reservations active`,
      `sessions/s per block of ${BLOCK} as reservations pile up: ${blocks.join(', ')}`,
      `WAL largest over ${RSS_DECISIONS} decisions at maximum rate: ${walPeakMb.toFixed(1)} MB (target <= 64)`,
      '',
    ].join('\n'),
  );
  results.rss = { beforeMb: before, afterMb: after.rss, hwmMb: after.hwm, blockPeaks, blocks, activeReservations: active, walPeakMb };
}

function readActive(path: string): number {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare(`SELECT COUNT(*) FROM reservations WHERE status = 'active'`).pluck().get() as number;
  } finally {
    db.close();
  }
}

// ---- a burst of connections at once, against the shipped cap and backlog (and the caps asked for)
async function flood(): Promise<void> {
  const dbPath = join(mkdtempSync(join(dir, 'db-')), 'bench.db');
  await seedSite(dbPath);
  const envs = workload();
  const env = (i: number): readonly string[] => envs[i % envs.length] as string[];
  const floods: Record<string, ReturnType<typeof floodRows>> = {};
  for (const cap of FLOOD_CAPS) {
    const flooded = await startGuard(`guard, cap ${cap}`, guardEnv(dbPath, cap));
    const rowsOfCap = floodRows(await runConnectionFlood(flooded.port, env, { connections: FLOOD_CONNECTIONS, probes: 20, probeEveryMs: 100 }));
    await stop(flooded);
    process.stdout.write(`\n${FLOOD_CONNECTIONS} connections at once against DIALGUARD_AGI_MAX_CONNECTIONS=${cap}, 20 probe sessions 100 ms apart:\n`);
    console.table(rowsOfCap);
    floods[String(cap)] = rowsOfCap;
  }
  results.flood = floods;
}

// ---- one guard on PostgreSQL, then two sharing it, under the same load, beside the null responder
async function postgres(): Promise<void> {
  const database = await benchDatabase();
  try {
    await seedSite(database.url);
    const nullServer = await startNull();
    const pgEnv = guardEnv(database.url);
    const first = await startGuard('guard (postgres)', pgEnv);
    const max: AgiLoadMode = { concurrency: CONCURRENCY, seconds: MAX_SECONDS };
    const fixed: AgiLoadMode = { rate: RATE, seconds: RATE_SECONDS };
    await measure(first, manyTemplates, { concurrency: CONCURRENCY, seconds: 2 });
    await measure(nullServer, manyTemplates, { concurrency: CONCURRENCY, seconds: 2 });
    const nullMax = await measure(nullServer, manyTemplates, max);
    const maxOne = await measure(first, manyTemplates, max);
    const nullRate = await measure(nullServer, manyTemplates, fixed);
    const rateOne = await measure(first, manyTemplates, fixed);
    const second = await startGuard('guard 2 (postgres)', pgEnv);
    await measure([first, second], manyTemplates, { concurrency: CONCURRENCY, seconds: 2 });
    const maxTwo = await measure([first, second], manyTemplates, max);
    const rateTwo = await measure([first, second], manyTemplates, fixed);
    await Promise.all([stop(first), stop(second), stop(nullServer)]);
    const rows = [
      row(`null, ${CONCURRENCY} in flight`, nullMax),
      row(`postgres guard, ${CONCURRENCY} in flight`, maxOne),
      row(`2 postgres guards, ${CONCURRENCY} in flight`, maxTwo),
      row(`null, ${RATE}/s`, nullRate),
      row(`postgres guard, ${RATE}/s`, rateOne),
      row(`2 postgres guards, ${RATE}/s`, rateTwo),
    ];
    process.stdout.write('\nPostgreSQL:\n');
    console.table(rows);
    const ratios = (m: Measured, r: Measured) => ({
      throughputRatio: +(m.load.rate / nullMax.load.rate).toFixed(3),
      p99Ratio: +(r.load.latencyMs.p99 / nullRate.load.latencyMs.p99).toFixed(3),
    });
    const one = ratios(maxOne, rateOne);
    const two = ratios(maxTwo, rateTwo);
    process.stdout.write(
      `postgres guard/null sessions/s at ${CONCURRENCY} in flight: ${one.throughputRatio}; p99 at ${RATE}/s: ${one.p99Ratio}\n` +
        `2 postgres guards/null sessions/s at ${CONCURRENCY} in flight: ${two.throughputRatio}; p99 at ${RATE}/s: ${two.p99Ratio}\n`,
    );
    results.postgres = { rows, oneGuard: one, twoGuards: two };
  } finally {
    await database.close();
  }
}

const run: Record<Part, () => Promise<void>> = { table, profile, rss, flood, postgres };
try {
  for (const part of PARTS) if (parts.has(part)) await run[part]();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
results.loadAverageAtEnd = loadavg();
mkdirSync(join(root, 'bench-results'), { recursive: true });
writeFileSync(join(root, 'bench-results', 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
