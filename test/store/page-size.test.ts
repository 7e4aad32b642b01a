import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate } from '../../src/store/sqlite/migrations.js';
import { openDatabase } from '../../src/store/sqlite/open.js';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));
const freshPath = (): string => {
  dir = mkdtempSync(join(tmpdir(), 'dialguard-page-size-'));
  return join(dir, 'dialguard.db');
};
const pageSize = (db: Database.Database): number => db.pragma('page_size', { simple: true }) as number;

describe('SQLite page size', () => {
  it('a new database is made of 2 KB pages', () => {
    const db = openDatabase(freshPath(), { busyTimeoutMs: 200 });
    expect(pageSize(db)).toBe(2048);
    db.close();
  });

  it("a connection keeps a page cache of 2 MB, not the driver's 16 MB", () => {
    const db = openDatabase(freshPath(), { busyTimeoutMs: 200 });
    expect(db.pragma('cache_size', { simple: true })).toBe(-2048);
    db.close();
  });

  it('an existing database keeps its pages and its rows', () => {
    const path = freshPath();
    const old = new Database(path);
    migrate(old);
    old.prepare(`INSERT INTO meta (key, value) VALUES ('kept', 'yes')`).run();
    expect(pageSize(old)).toBe(4096);
    old.close();
    const db = openDatabase(path, { busyTimeoutMs: 200 });
    expect(pageSize(db)).toBe(4096);
    expect(db.prepare(`SELECT value FROM meta WHERE key = 'kept'`).pluck().get()).toBe('yes');
    db.close();
  });
});
