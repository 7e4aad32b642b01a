/**
 * The top entries of a V8 .cpuprofile (`node --cpu-prof`) by self time, and the time by group
 * (better-sqlite3, socket writes, pino, (idle), (garbage collector), ...).
 *
 *   node --import tsx scripts/bench/cpuprofile-top.ts FILE.cpuprofile [--top 15] [--from-us T --to-us T]
 *
 * --from-us/--to-us keep only the samples in that window, in the profile's clock (CLOCK_MONOTONIC
 * microseconds, the clock of process.hrtime), so that start-up and shutdown do not count.
 *
 * A native frame (a socket's writeUtf8String) has no file: it is named with its nearest
 * JavaScript caller, which says which write it was. V8 shows most native calls (better-sqlite3's
 * statement.run/get/all) as no frame at all: their time is the self time of the JavaScript
 * function that made the call, so a store function's self time is mostly SQLite's.
 *
 * tsx runs TypeScript through esbuild with whitespace minified, so a .ts frame's position is in
 * code that is one long line; it is mapped back to the source line by transforming the file again
 * with tsx's options and reading the source map.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { transformSync } from 'esbuild';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileEntry {
  percent: number;
  ms: number;
  name: string;
  /** file:line, or the native function's JavaScript caller. */
  where: string;
}

export interface ProfileSummary {
  /** Sampled time in the window. */
  totalMs: number;
  entries: ProfileEntry[];
  groups: Array<{ group: string; percent: number; ms: number }>;
}

const root = resolve(import.meta.dirname, '../..');

function shortFile(url: string): string {
  const path = url.replace(/^file:\/\//, '');
  const modules = path.lastIndexOf('/node_modules/');
  if (modules >= 0) return path.slice(modules + '/node_modules/'.length);
  return path.startsWith(`${root}/`) ? path.slice(root.length + 1) : path;
}

const where = (frame: CallFrame): string => `${shortFile(frame.url)}:${sourceLine(frame)}`;

const maps = new Map<string, number[][][] | null>();

/** The 1-based source line of a frame; a TypeScript file's through the source map of tsx's transform. */
function sourceLine(frame: CallFrame): number {
  if (!/^file:.*\.[cm]?tsx?$/.test(frame.url)) return frame.lineNumber + 1;
  let map = maps.get(frame.url);
  if (map === undefined) {
    try {
      const path = fileURLToPath(frame.url);
      const out = transformSync(readFileSync(path, 'utf8'), {
        loader: path.endsWith('x') ? 'tsx' : 'ts',
        target: `node${process.versions.node}`,
        format: 'esm',
        sourcemap: true,
        minifyWhitespace: true,
        keepNames: true,
        sourcefile: path,
      });
      map = decodeMappings((JSON.parse(out.map) as { mappings: string }).mappings);
    } catch {
      map = null;
    }
    maps.set(frame.url, map);
  }
  const segments = map?.[frame.lineNumber];
  if (!segments) return frame.lineNumber + 1;
  let best: number[] | undefined;
  for (const seg of segments) if ((seg[0] as number) <= frame.columnNumber) best = seg;
  return best && best.length >= 3 ? (best[2] as number) + 1 : frame.lineNumber + 1;
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Source map "mappings": per generated line, segments [generated column, source, source line, source column]. */
function decodeMappings(mappings: string): number[][][] {
  const lines: number[][][] = [];
  const state = [0, 0, 0, 0, 0];
  for (const line of mappings.split(';')) {
    state[0] = 0;
    const segments: number[][] = [];
    for (const text of line.split(',')) {
      if (!text) continue;
      const fields: number[] = [];
      let value = 0;
      let shift = 0;
      for (const ch of text) {
        const digit = BASE64.indexOf(ch);
        value += (digit & 31) << shift;
        if (digit & 32) shift += 5;
        else {
          fields.push(value & 1 ? -(value >>> 1) : value >>> 1);
          value = 0;
          shift = 0;
        }
      }
      segments.push(fields.map((delta, i) => (state[i] = (state[i] as number) + delta)));
    }
    lines.push(segments);
  }
  return lines;
}
const jsName = (frame: CallFrame): string => frame.functionName || '(anonymous)';
const isNative = (frame: CallFrame): boolean => frame.url === '';
const isSpecial = (frame: CallFrame): boolean => /^\(.*\)$/.test(frame.functionName);
const SOCKET_WRITE = /^(writeUtf8String|writeLatin1String|writeAsciiString|writeBuffer|writev|writeUcs2String)$/;

/** The group of a sample, from its leaf up: the first frame that names one. */
function groupOf(stack: readonly CallFrame[]): string {
  const leaf = stack[0] as CallFrame;
  if (isSpecial(leaf)) return leaf.functionName;
  if (isNative(leaf) && SOCKET_WRITE.test(leaf.functionName)) return 'socket writes';
  const caller = stack.find((f) => !isNative(f));
  if (isNative(leaf) && caller && /better-sqlite3|\/src\/store\//.test(caller.url)) return 'better-sqlite3 (its wrappers and native frames)';
  for (const frame of stack) {
    const url = frame.url;
    if (url.includes('better-sqlite3')) return 'better-sqlite3 (its wrappers and native frames)';
    if (/\/(pino|sonic-boom|pino-std-serializers|thread-stream)\//.test(url)) return 'pino / sonic-boom';
    if (url.includes('libphonenumber-js')) return 'libphonenumber-js';
    if (url.includes('/src/store/')) return 'store functions (and the better-sqlite3 statements they run)';
    if (url.includes('/src/engine/')) return 'engine';
    if (url.includes('/src/agi/')) return 'FastAGI transport';
    if (url.startsWith('node:net') || url.includes('stream_base_commons') || url.startsWith('node:internal/streams')) return 'node streams and sockets';
    if (url.includes('/src/')) return 'other dialguard code';
  }
  return 'other (node internals, native)';
}

export function summarize(profile: CpuProfile, top = 15, window?: { fromUs: number; toUs: number }): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stackOf = (id: number): CallFrame[] => {
    const stack: CallFrame[] = [];
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const node = byId.get(at) as ProfileNode;
      if (node.callFrame.functionName !== '(root)') stack.push(node.callFrame);
    }
    return stack;
  };
  const selfUs = new Map<number, number>();
  let t = profile.startTime;
  let totalUs = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    if (window && (t < window.fromUs || t > window.toUs)) return;
    selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
    totalUs += delta;
  });
  const entryUs = new Map<string, { name: string; where: string; us: number }>();
  const groupUs = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const stack = stackOf(id);
    if (stack.length === 0) continue;
    const leaf = stack[0] as CallFrame;
    let name: string;
    let at: string;
    if (isSpecial(leaf)) {
      name = leaf.functionName;
      at = '';
    } else if (isNative(leaf)) {
      const caller = stack.find((f) => !isNative(f));
      name = `${leaf.functionName || '(native)'} (native)`;
      at = caller ? `from ${jsName(caller)} ${where(caller)}` : '';
    } else {
      name = jsName(leaf);
      at = where(leaf);
    }
    const key = `${name}\u0000${at}`;
    const entry = entryUs.get(key) ?? { name, where: at, us: 0 };
    entry.us += us;
    entryUs.set(key, entry);
    const group = groupOf(stack);
    groupUs.set(group, (groupUs.get(group) ?? 0) + us);
  }
  const pct = (us: number): number => +((us / (totalUs || 1)) * 100).toFixed(1);
  return {
    totalMs: +(totalUs / 1000).toFixed(0),
    entries: [...entryUs.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((e) => ({ percent: pct(e.us), ms: +(e.us / 1000).toFixed(1), name: e.name, where: e.where })),
    groups: [...groupUs.entries()].sort((a, b) => b[1] - a[1]).map(([group, us]) => ({ group, percent: pct(us), ms: +(us / 1000).toFixed(1) })),
  };
}

export function formatSummary(summary: ProfileSummary): string {
  const lines = [`${summary.totalMs} ms sampled; top ${summary.entries.length} by self time:`];
  for (const e of summary.entries) lines.push(`${e.percent.toFixed(1).padStart(5)} %  ${e.name}  ${e.where}`);
  lines.push("(a store function's self time is mostly the better-sqlite3 statements it runs: V8 counts those native calls as the caller's)");
  lines.push('', 'by group (each sample counted once, in the first group found from its leaf up):');
  for (const g of summary.groups) lines.push(`${g.percent.toFixed(1).padStart(5)} %  ${g.group}`);
  return `${lines.join('\n')}\n`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [file, ...rest] = process.argv.slice(2);
  if (!file) throw new Error('usage: cpuprofile-top.ts FILE.cpuprofile [--top N] [--from-us T --to-us T]');
  const flag = (name: string): number | undefined => {
    const i = rest.indexOf(name);
    return i >= 0 ? Number(rest[i + 1]) : undefined;
  };
  const fromUs = flag('--from-us');
  const toUs = flag('--to-us');
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  process.stdout.write(formatSummary(summarize(profile, flag('--top') ?? 15, fromUs !== undefined && toUs !== undefined ? { fromUs, toUs } : undefined)));
}
