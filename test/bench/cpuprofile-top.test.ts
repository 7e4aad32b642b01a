/** The bench's profile summary: self time per entry, native frames named by their caller, groups, the window. */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { summarize, type CpuProfile } from '../../scripts/bench/cpuprofile-top.js';

const root = resolve(import.meta.dirname, '../..');
const frame = (functionName: string, url = '', lineNumber = -1) => ({ functionName, url, lineNumber, columnNumber: 0 });
const storeUrl = pathToFileURL(resolve(root, 'src/store/sqlite/decisions.js')).href;

/** root → (idle), (garbage collector), reserve (store) → run (native), handleWriteReq → writeUtf8String (native). */
const profile: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame('(root)'), children: [2, 3, 4, 6] },
    { id: 2, callFrame: frame('(idle)') },
    { id: 3, callFrame: frame('(garbage collector)') },
    { id: 4, callFrame: frame('reserve', storeUrl, 9), children: [5] },
    { id: 5, callFrame: frame('run') },
    { id: 6, callFrame: frame('handleWriteReq', 'node:internal/stream_base_commons', 45), children: [7] },
    { id: 7, callFrame: frame('writeUtf8String') },
  ],
  startTime: 1_000_000,
  endTime: 1_010_000,
  // One sample per millisecond: 4 ms in run, 3 in writes, 2 idle, 1 GC.
  samples: [5, 5, 7, 2, 5, 7, 3, 5, 7, 2],
  timeDeltas: Array.from({ length: 10 }, () => 1000),
};

describe('cpuprofile-top', () => {
  it('ranks entries by self time, a native frame named with its JavaScript caller', () => {
    const summary = summarize(profile, 3);
    expect(summary.totalMs).toBe(10);
    expect(summary.entries).toEqual([
      { percent: 40, ms: 4, name: 'run (native)', where: 'from reserve src/store/sqlite/decisions.js:10' },
      { percent: 30, ms: 3, name: 'writeUtf8String (native)', where: 'from handleWriteReq node:internal/stream_base_commons:46' },
      { percent: 20, ms: 2, name: '(idle)', where: '' },
    ]);
  });

  it('groups the samples: better-sqlite3 from the store, socket writes, idle, garbage collection', () => {
    expect(summarize(profile).groups).toEqual([
      { group: 'better-sqlite3 (its wrappers and native frames)', percent: 40, ms: 4 },
      { group: 'socket writes', percent: 30, ms: 3 },
      { group: '(idle)', percent: 20, ms: 2 },
      { group: '(garbage collector)', percent: 10, ms: 1 },
    ]);
  });

  it('counts only the samples inside the window', () => {
    // Samples at 1,001 ... 1,010 ms: the window keeps those at 1,002 ... 1,006 (5, 7, 2, 5, 7).
    const summary = summarize(profile, 15, { fromUs: 1_001_500, toUs: 1_006_000 });
    expect(summary.totalMs).toBe(5);
    expect(summary.groups).toEqual([
      { group: 'better-sqlite3 (its wrappers and native frames)', percent: 40, ms: 2 },
      { group: 'socket writes', percent: 40, ms: 2 },
      { group: '(idle)', percent: 20, ms: 1 },
    ]);
  });
});
