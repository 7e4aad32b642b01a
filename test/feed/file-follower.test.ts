import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { followFile, type FileFollower } from '../../src/feed/file-follower.js';
import { memoryLogger } from '../agi/memory-logger.js';
import { sleep, until } from '../ari/fixture.js';

let dir: string;
let path: string;
let follower: FileFollower | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dialguard-follow-'));
  path = join(dir, 'security');
});

afterEach(async () => {
  await follower?.close();
  follower = undefined;
  rmSync(dir, { recursive: true, force: true });
});

function follow(maxLineBytes?: number): { lines: string[]; oversize: () => number; records: ReturnType<typeof memoryLogger>['records'] } {
  const { logger, records } = memoryLogger();
  const lines: string[] = [];
  let oversize = 0;
  follower = followFile({ path, logger, onLine: (l) => lines.push(l), onOversize: () => oversize++, pollIntervalMs: 20, ...(maxLineBytes ? { maxLineBytes } : {}) });
  return { lines, oversize: () => oversize, records };
}

/** Two polls' time: what was going to be read has been read. */
const settle = (): Promise<void> => sleep(100);

describe('following the security log', () => {
  it('starts at the end: lines written before it started are not read', async () => {
    writeFileSync(path, 'old 1\nold 2\n');
    const f = follow();
    await settle();
    appendFileSync(path, 'new 1\n');
    await until(() => f.lines.length === 1, 2000, 'the new line');
    expect(f.lines).toEqual(['new 1']);
  });

  it('says it is following once its start position is set: a line written after that message is read', async () => {
    writeFileSync(path, 'old 1\n');
    const f = follow();
    await until(() => f.records.some((r) => r.msg === 'following the security log'), 2000, 'the following message');
    appendFileSync(path, 'new 1\n');
    await until(() => f.lines.length === 1, 2000, 'the new line');
    expect(f.lines).toEqual(['new 1']);
    expect(f.records.find((r) => r.msg === 'following the security log')).toMatchObject({ position: 'old 1\n'.length });
  });

  it('keeps a partial last line until its end is written', async () => {
    writeFileSync(path, '');
    const f = follow();
    await settle();
    appendFileSync(path, 'SecurityEvent="Invalid');
    await settle();
    expect(f.lines).toEqual([]);
    appendFileSync(path, 'AccountID"\nnext\n');
    await until(() => f.lines.length === 2, 2000, 'both lines');
    expect(f.lines).toEqual(['SecurityEvent="InvalidAccountID"', 'next']);
  });

  it('survives rotation by rename: reads the old file to its end, then the new one from its start', async () => {
    writeFileSync(path, '');
    const f = follow();
    await settle();
    appendFileSync(path, 'before\n');
    await until(() => f.lines.length === 1, 2000, 'the first line');
    renameSync(path, `${path}.1`);
    // Asterisk goes on writing to the renamed file until its logger reopens the files.
    appendFileSync(`${path}.1`, 'late in the old file\n');
    await settle();
    appendFileSync(`${path}.1`, 'last in the old file\n');
    writeFileSync(path, 'first in the new file\n');
    await until(() => f.lines.length >= 4, 2000, 'the new file');
    appendFileSync(path, 'second in the new file\n');
    await until(() => f.lines.length === 5, 2000, 'the next line of the new file');
    expect(f.lines).toEqual(['before', 'late in the old file', 'last in the old file', 'first in the new file', 'second in the new file']);
    expect(f.records.some((r) => r.msg === 'security log rotated; following the new file')).toBe(true);
  });

  it('survives copytruncate: the file shrinks, reading starts again from 0', async () => {
    writeFileSync(path, '');
    const f = follow();
    await settle();
    appendFileSync(path, 'one\ntwo\n');
    await until(() => f.lines.length === 2, 2000, 'two lines');
    copyFileSync(path, `${path}.1`);
    truncateSync(path, 0);
    await settle();
    appendFileSync(path, 'three\n');
    await until(() => f.lines.length === 3, 2000, 'the line after the truncation');
    expect(f.lines).toEqual(['one', 'two', 'three']);
    expect(f.records.some((r) => r.msg === 'security log truncated (copytruncate); reading it from the start')).toBe(true);
  });

  it('waits for a file that is not there yet, and reads it whole once it is; reopens one deleted and recreated', async () => {
    const f = follow();
    await settle();
    writeFileSync(path, 'created\n');
    await until(() => f.lines.length === 1, 2000, 'the created file');
    unlinkSync(path);
    await settle();
    writeFileSync(path, 'recreated\n');
    await until(() => f.lines.length === 2, 2000, 'the recreated file');
    expect(f.lines).toEqual(['created', 'recreated']);
  });

  it('drops a line over the limit, counts it, and reads the next one', async () => {
    writeFileSync(path, '');
    const f = follow(100);
    await settle();
    appendFileSync(path, `${'x'.repeat(250)}`);
    await settle();
    appendFileSync(path, `${'x'.repeat(250)}\nshort\n`);
    await until(() => f.lines.length === 1, 2000, 'the short line');
    expect(f.lines).toEqual(['short']);
    expect(f.oversize()).toBe(1);
  });

  it('warns once when the path cannot be read, and goes on when it can', async () => {
    // A file where a folder should be: ENOTDIR, which even root gets (a mode would not stop root).
    const folder = join(dir, 'asterisk');
    writeFileSync(folder, '');
    path = join(folder, 'security');
    const f = follow();
    await settle();
    await settle();
    expect(f.records.filter((r) => r.msg === 'cannot read the security log; retrying').map((r) => r.reason)).toEqual([expect.stringContaining('ENOTDIR')]);
    unlinkSync(folder);
    mkdirSync(folder);
    writeFileSync(path, 'readable\n');
    await until(() => f.lines.includes('readable'), 2000, 'the line once readable');
    expect(f.records.some((r) => r.msg === 'security log readable again')).toBe(true);
  });
});
