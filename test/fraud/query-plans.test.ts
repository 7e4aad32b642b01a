import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createIdFactory } from '../../src/store/ids.js';
import { createAlertRepository } from '../../src/store/sqlite/alerts.js';
import { createCircuitBreakerRepository } from '../../src/store/sqlite/circuit-breaker.js';
import { createFraudEffects } from '../../src/store/sqlite/fraud-effects.js';
import { openDatabase } from '../../src/store/sqlite/open.js';
import { createPolicyRepository } from '../../src/store/sqlite/policies.js';
import { createVelocityRepository } from '../../src/store/sqlite/velocity.js';

/**
 * Every statement of the fraud tables, as the repositories prepare them, must read through an
 * index: the decision path may not slow down as history grows.
 */

let dir: string;
let db: Database;
afterEach(() => {
  db?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The repositories on a database whose prepare() records each statement's SQL. */
function preparedStatements(): string[] {
  dir = mkdtempSync(join(tmpdir(), 'dialguard-plans-'));
  db = openDatabase(join(dir, 'dialguard.db'), { busyTimeoutMs: 200 });
  const sql: string[] = [];
  const recording = new Proxy(db, {
    get(target, key) {
      if (key === 'prepare') return (text: string) => (sql.push(text), target.prepare(text));
      const value = Reflect.get(target, key) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  const velocity = createVelocityRepository(recording);
  const breaker = createCircuitBreakerRepository(recording);
  const alerts = createAlertRepository(recording);
  createFraudEffects(recording, { policies: createPolicyRepository(db), velocity, breaker, alerts, nextId: createIdFactory() });
  // Alert lists are prepared per filter combination.
  alerts.list({}, { limit: 10 });
  alerts.list({ ext: '1001', kind: 'breach', acknowledged: false }, { limit: 10, beforeId: 'x' });
  return sql;
}

function plan(sql: string): string[] {
  const parameters = (sql.match(/\?/g) ?? []).map(() => 1);
  const named = Object.fromEntries([...sql.matchAll(/@(\w+)/g)].map((m) => [m[1], 1]));
  const statement = db.prepare(`EXPLAIN QUERY PLAN ${sql}`);
  const rows = (Object.keys(named).length ? statement.all(named) : statement.all(...parameters)) as Array<{ detail: string }>;
  return rows.map((r) => r.detail);
}

/** Scans allowed: the oldest few attempts by rowid (LIMIT 32). The admin's alert pages walk the index of alert ids. */
const BOUNDED_SCANS: ReadonlyArray<[RegExp, string]> = [
  [/^DELETE FROM velocity_attempts WHERE id IN \(SELECT id FROM velocity_attempts ORDER BY id LIMIT 32\)/, 'SCAN velocity_attempts'],
];

describe('query plans of the fraud tables', () => {
  it('search an index for every read, and sort nothing in a temporary tree', () => {
    const statements = preparedStatements();
    expect(statements.length).toBeGreaterThan(30);
    for (const sql of statements) {
      const steps = plan(sql);
      const scans = steps.filter((s) => /^SCAN (?!\(subquery|CONSTANT ROW)/.test(s) && !/USING (COVERING )?INDEX/.test(s));
      const bounded = BOUNDED_SCANS.find(([pattern]) => pattern.test(sql));
      if (bounded) expect(scans, sql).toEqual([bounded[1]]);
      else expect(scans, `${sql}\n${steps.join('\n')}`).toEqual([]);
      expect(steps.some((s) => s.includes('TEMP B-TREE')), `${sql}\n${steps.join('\n')}`).toBe(false);
    }
  });

  it('count every velocity window in one statement, each from probes of a covering index, whatever the limit', () => {
    const counts = preparedStatements().find((sql) => sql.includes('AS placed')) as string;
    const steps = plan(counts);
    // Three counters, each its running count at the window's end and at its start (with the fallback before the oldest row).
    expect(steps.filter((s) => s === 'SEARCH velocity_attempts USING COVERING INDEX velocity_attempts_running (ext=? AND at<?)')).toHaveLength(6);
    expect(steps.filter((s) => s === 'SEARCH velocity_attempts USING COVERING INDEX velocity_attempts_running (ext=?)')).toHaveLength(6);
    expect(steps).toContain('SEARCH velocity_numbers USING PRIMARY KEY (ext=?)');
    expect(steps).toContain('SEARCH velocity_destinations USING COVERING INDEX velocity_destinations_recent (ext=? AND last_at<?)');
    // A bound LIMIT would make SQLite prepare the statement again at every run.
    expect(counts).not.toMatch(/LIMIT @/);
    expect(steps).toContain('SEARCH velocity_countries USING COVERING INDEX velocity_countries_novel (ext=? AND novel_at>?)');
    expect(steps).toContain('SEARCH velocity_destinations USING PRIMARY KEY (ext=? AND destination=?)');
    expect(steps).toContain('SEARCH velocity_countries USING PRIMARY KEY (ext=? AND country=?)');
  });
});
