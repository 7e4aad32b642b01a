import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { FraudQuery } from '../../src/domain/fraud.js';
import { HOUR_MS, MINUTE_MS } from '../../src/domain/windows.js';
import { migrate } from '../../src/store/sqlite/migrations.js';
import { openDatabase } from '../../src/store/sqlite/open.js';
import { createVelocityRepository, type LatestAttempt, type RecordedAttempt } from '../../src/store/sqlite/velocity.js';

/**
 * The SQLite velocity counters are running counts (each attempt row carries the extension's
 * counts up to itself): these tests hold them to a count of the attempts themselves, with
 * attempts arriving out of time order, old rows pruned, and a database migrated from schema 4.
 */

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));
const freshPath = (): string => {
  dir = mkdtempSync(join(tmpdir(), 'dialguard-running-'));
  return join(dir, 'dialguard.db');
};

const CAP = 100_000;
const query = (destination: string): FraudQuery => ({
  destination,
  country: null,
  breaker: false,
  noveltyMs: null,
  caps: { placedPerMinute: CAP, internationalPerHour: CAP, destinationsPerHour: CAP, deniedPerHour: CAP, newCountriesPerHour: null },
});

interface Attempt {
  ext: string;
  at: number;
  kind: 'domestic' | 'international' | 'denied';
  destination: string;
}

/** What the counters must say: the attempts themselves, counted in (at - window, at]. */
function expected(attempts: Attempt[], ext: string, at: number) {
  const mine = attempts.filter((a) => a.ext === ext && a.at <= at);
  const inside = (w: number) => mine.filter((a) => a.at > at - w);
  const placedInHour = inside(HOUR_MS).filter((a) => a.kind !== 'denied');
  // Each number's latest call (in the order recorded, as the store keeps it) decides whether it is in the hour.
  const latest = new Map<string, number>();
  for (const a of attempts) if (a.ext === ext && a.kind !== 'denied') latest.set(a.destination, Math.max(latest.get(a.destination) ?? -Infinity, a.at));
  return {
    placedLastMinute: inside(MINUTE_MS).filter((a) => a.kind !== 'denied').length,
    internationalLastHour: placedInHour.filter((a) => a.kind === 'international').length,
    deniedLastHour: inside(HOUR_MS).filter((a) => a.kind === 'denied').length,
    destinationsLastHour: [...latest.values()].filter((t) => t > at - HOUR_MS).length,
  };
}

const record = (v: ReturnType<typeof createVelocityRepository>, a: Attempt, latest?: LatestAttempt): RecordedAttempt =>
  v.record(a.ext, a.at, {
    placed: a.kind !== 'denied',
    policyDenied: a.kind === 'denied',
    international: a.kind === 'international',
    destination: a.destination,
    country: null,
    novelCountry: false,
  }, latest);

describe('velocity running counts', () => {
  it('equal a count of the attempts, with some recorded out of time order and the oldest pruned', () => {
    const db = openDatabase(freshPath(), { busyTimeoutMs: 200 });
    const v = createVelocityRepository(db);
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const attempts: Attempt[] = [];
    let clock = Date.parse('2026-11-17T15:00:00Z');
    // Each extension's latest attempt as the decision path holds it: counts go on from it when known.
    const latest = new Map<string, LatestAttempt | undefined>();
    const oldestNumber = new Map<string, number>();
    const stale = db.prepare<[string, number], number>('SELECT COUNT(*) FROM velocity_destinations WHERE ext = ? AND last_at <= ?').pluck();
    // Three hours of traffic on three extensions: every window fills, slides and empties, and rows are pruned.
    for (let i = 0; i < 3000; i++) {
      clock += Math.floor(rnd() * 7000);
      // One attempt in eight waited for another process's lock: it is up to two seconds older than the last.
      const at = rnd() < 0.125 ? clock - Math.floor(rnd() * 2000) : clock;
      const r = rnd();
      const a: Attempt = { ext: `10${Math.floor(rnd() * 3)}`, at, kind: r < 0.6 ? 'domestic' : r < 0.8 ? 'international' : 'denied', destination: `+1212555${Math.floor(rnd() * 40)}` };
      db.transaction(() => {
        // As the decision path does: numbers expire only once the oldest one kept leaves the hour, and then none older is left.
        const oldest = oldestNumber.get(a.ext);
        if (oldest === undefined || oldest <= clock - HOUR_MS) oldestNumber.set(a.ext, v.expire(a.ext, clock));
        expect(stale.get(a.ext, clock - HOUR_MS)).toBe(0);
        const got = v.counts(a.ext, clock, query(a.destination));
        const want = expected(attempts, a.ext, clock);
        expect({ ...got, at: i }).toMatchObject({ ...want, at: i });
        expect({ ...v.counts(a.ext, clock, query(a.destination), latest.get(a.ext)), at: i }).toMatchObject({ ...want, at: i });
        const recorded = record(v, a, latest.get(a.ext));
        latest.set(a.ext, recorded.latest);
        for (const ext of recorded.pruned) latest.delete(ext);
        if (a.kind !== 'denied') oldestNumber.set(a.ext, Math.min(oldestNumber.get(a.ext) ?? Infinity, a.at));
      })();
      attempts.push(a);
    }
    const kept = db.prepare<[], number>('SELECT COUNT(*) FROM velocity_attempts').pluck().get() as number;
    expect(kept).toBeLessThan(attempts.length);
    db.close();
  });

  it('count a long history exactly with limits of 10^8, going on from the latest attempt or reading it', () => {
    const db = openDatabase(freshPath(), { busyTimeoutMs: 200 });
    const v = createVelocityRepository(db);
    const huge: FraudQuery = { ...query('+1'), caps: { placedPerMinute: 1e8, internationalPerHour: 1e8, destinationsPerHour: 1e8, deniedPerHour: 1e8, newCountriesPerHour: null } };
    const start = Date.parse('2026-11-17T15:00:00Z');
    // 30,000 attempts 100 ms apart (50 minutes): 600 a minute, every third abroad, every fifth denied.
    const kindOf = (i: number): Attempt['kind'] => (i % 5 === 4 ? 'denied' : i % 3 === 0 ? 'international' : 'domestic');
    let latest: LatestAttempt | undefined;
    db.transaction(() => {
      for (let i = 0; i < 30_000; i++) latest = record(v, { ext: '1001', at: start + i * 100, kind: kindOf(i), destination: `+1212${String(i % 5000).padStart(7, '0')}` }, latest).latest;
    })();
    const at = start + 30_000 * 100;
    const all = Array.from({ length: 30_000 }, (_, i) => ({ at: start + i * 100, kind: kindOf(i), number: i % 5000 }));
    const want = {
      placedLastMinute: all.filter((a) => a.at > at - MINUTE_MS && a.kind !== 'denied').length,
      internationalLastHour: all.filter((a) => a.kind === 'international').length,
      deniedLastHour: all.filter((a) => a.kind === 'denied').length,
      destinationsLastHour: new Set(all.filter((a) => a.kind !== 'denied').map((a) => a.number)).size,
    };
    expect(v.counts('1001', at, huge)).toMatchObject(want);
    expect(v.counts('1001', at, huge, latest)).toMatchObject(want);
    db.close();
  });

  it('stop at the limit', () => {
    const db = openDatabase(freshPath(), { busyTimeoutMs: 200 });
    const v = createVelocityRepository(db);
    const at = Date.parse('2026-11-17T15:00:00Z');
    for (let i = 0; i < 30; i++) record(v, { ext: '1001', at: at + i, kind: 'international', destination: `+44207946${i}` });
    const capped: FraudQuery = { ...query('+1'), caps: { placedPerMinute: 5, internationalPerHour: 7, destinationsPerHour: 9, deniedPerHour: 0, newCountriesPerHour: null } };
    expect(v.counts('1001', at + 100, capped)).toMatchObject({ placedLastMinute: 5, internationalLastHour: 7, destinationsLastHour: 9, deniedLastHour: 0 });
    db.close();
  });

  it('go on from a database of schema 4: its attempts and numbers count at once', () => {
    const path = freshPath();
    const at = Date.parse('2026-11-17T15:00:00Z');
    const old = new Database(path);
    migrate(old, 4);
    const insert = old.prepare('INSERT INTO velocity_attempts (ext, at, kind) VALUES (?, ?, ?)');
    const number = old.prepare('INSERT INTO velocity_destinations (ext, destination, last_at) VALUES (?, ?, ?)');
    for (let i = 0; i < 6; i++) {
      insert.run('1001', at + i * 1000, i % 3 === 0 ? 2 : 1);
      insert.run('1001', at + i * 1000 + 1, 3);
      number.run('1001', `+1212555000${i}`, at + i * 1000);
    }
    insert.run('1002', at, 1);
    old.close();

    const db = openDatabase(path, { busyTimeoutMs: 200 });
    const v = createVelocityRepository(db);
    expect(v.counts('1001', at + 10_000, query('+12125550003'))).toMatchObject({
      placedLastMinute: 6,
      internationalLastHour: 2,
      deniedLastHour: 6,
      destinationsLastHour: 6,
      destinationInLastHour: true,
    });
    record(v, { ext: '1001', at: at + 20_000, kind: 'international', destination: '+442079460000' });
    expect(v.counts('1001', at + 30_000, query('+1'))).toMatchObject({ placedLastMinute: 7, internationalLastHour: 3, deniedLastHour: 6, destinationsLastHour: 7 });
    expect(v.counts('1002', at + 30_000, query('+1'))).toMatchObject({ placedLastMinute: 1 });
    db.close();
  });
});
