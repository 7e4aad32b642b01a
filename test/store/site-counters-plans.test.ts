import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3';
import { afterEach, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/sqlite/open.js';
import { createSiteCounters } from '../../src/store/sqlite/site-counters.js';

/** The site-wide counters are read on every decision: each must search an index of the reservations, never scan them. */

let dir: string;
let db: Database;
afterEach(() => {
  db?.close();
  rmSync(dir, { recursive: true, force: true });
});

it('reads the calls per source and the extensions per number through the site-counter indexes of the reservations', () => {
  dir = mkdtempSync(join(tmpdir(), 'dialguard-site-plans-'));
  db = openDatabase(join(dir, 'dialguard.db'), { busyTimeoutMs: 200 });
  const sql: string[] = [];
  const recording = new Proxy(db, {
    get(target, key) {
      if (key === 'prepare') return (text: string) => (sql.push(text), target.prepare(text));
      const value = Reflect.get(target, key) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  createSiteCounters(recording);
  const plans = sql.map((text) => {
    const named = Object.fromEntries([...text.matchAll(/@(\w+)/g)].map((m) => [m[1], 1]));
    const statement = db.prepare(`EXPLAIN QUERY PLAN ${text}`);
    const rows = (Object.keys(named).length ? statement.all(named) : statement.all(...(text.match(/\?/g) ?? []).map(() => 1))) as Array<{ detail: string }>;
    return rows.map((r) => r.detail);
  });
  expect(plans).toHaveLength(2);
  expect(plans[0]).toContain('SEARCH reservations USING COVERING INDEX reservations_source_active (source_ip=? AND expires_at>?)');
  expect(plans[1]?.filter((s) => s === 'SEARCH reservations USING COVERING INDEX reservations_destination (e164=? AND created_at>?)')).toHaveLength(2);
  for (const steps of plans) expect(steps.filter((s) => /^SCAN reservations/.test(s))).toEqual([]);
});
