import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate, SCHEMA_VERSION } from '../../src/store/sqlite/migrations.js';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('the SQLite alerts table', () => {
  it('is a rowid table, and the migration to it keeps every alert and column', () => {
    dir = mkdtempSync(join(tmpdir(), 'dialguard-alerts-table-'));
    const db = new Database(join(dir, 'dialguard.db'));
    migrate(db, SCHEMA_VERSION - 1);
    const row = {
      id: '01M8VWR1PQ9CF339JSQTAD7JF5', at: 1, last_at: 2, occurrences: 3, kind: 'velocity', severity: 'warning', ext: '2001', check_name: 'velocity',
      counter: 'placedPerMinute', message: 'm', shadow: 0, decision_id: 'd', details: JSON.stringify({ numbers: ['+1'.repeat(400)] }), dedup_key: 'k',
      acked_at: null, acked_by: null, delivery_status: 'pending', delivery_attempts: 1, delivery_next_at: 5, delivery_error: null, delivered_to: '[]',
    };
    const columns = Object.keys(row);
    db.prepare(`INSERT INTO alerts (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})`).run(row);
    migrate(db);
    const [table] = db.pragma("table_list('alerts')") as Array<{ wr: number }>;
    expect(table?.wr).toBe(0);
    expect(db.prepare('SELECT * FROM alerts').all()).toEqual([row]);
    const indexes = (db.pragma('index_list(alerts)') as Array<{ name: string }>).map((i) => i.name).sort();
    expect(indexes).toEqual(['alerts_dedup', 'alerts_due', 'alerts_ext', 'sqlite_autoindex_alerts_1']);
    db.close();
  });
});
