import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Reader } from 'maxmind';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultGeoIpPath } from '../../src/geo/geoip.js';
import { MmdbFile, MmdbFormatError } from '../../src/geo/mmdb.js';
import { encodeMmdbValue, writeMmdb } from '../support/mmdb-file.js';
import { seededRandom } from '../support/seeded-random.js';

// The reader that reads the file in blocks must find what MaxMind's own reader (the `maxmind`
// package, a dev dependency kept for this) finds with the whole file in memory.
const shipped = defaultGeoIpPath();
const ipv4Only = shipped.replace(/dbip-country\.mmdb$/, 'dbip-country-ipv4.mmdb');

function addresses(count: number, bytes: 4 | 16, rnd: () => number): Uint8Array[] {
  return Array.from({ length: count }, () => {
    const a = Uint8Array.from({ length: bytes }, () => Math.floor(rnd() * 256));
    // Most of IPv6's allocations are in 2000::/3.
    if (bytes === 16) a[0] = 0x20 | ((a[0] as number) & 0x1f);
    return a;
  });
}

const text = (a: Uint8Array): string => (a.length === 4 ? a.join('.') : Array.from({ length: 8 }, (_, i) => ((a[2 * i] as number) * 256 + (a[2 * i + 1] as number)).toString(16)).join(':'));

describe.each([
  ['the shipped IPv4 and IPv6 database', shipped],
  ['the IPv4-only database beside it', ipv4Only],
])('MmdbFile on %s', (_name, path) => {
  const reference = new Reader<Record<string, unknown>>(readFileSync(path));
  const file = new MmdbFile(path);

  it('reads the metadata MaxMind reads', () => {
    expect(file.metadata.nodeCount).toBe(reference.metadata.nodeCount);
    expect(file.metadata.recordSize).toBe(reference.metadata.recordSize);
    expect(file.metadata.ipVersion).toBe(reference.metadata.ipVersion);
    expect(file.metadata.buildEpoch.getTime()).toBe(reference.metadata.buildEpoch.getTime());
  });

  it('finds the record MaxMind finds for 20,000 random IPv4 and 20,000 random IPv6 addresses', () => {
    const rnd = seededRandom(7);
    let found = 0;
    for (const address of [...addresses(20_000, 4, rnd), ...addresses(20_000, 16, rnd)]) {
      const offset = file.recordOffset(address);
      const ours = offset === null ? null : file.record(offset);
      const theirs = address.length === 16 && reference.metadata.ipVersion === 4 ? null : reference.get(text(address));
      expect(ours, text(address)).toEqual(theirs);
      if (ours !== null) found++;
    }
    // Not a pass on nulls alone: most random IPv4 addresses are allocated somewhere.
    expect(found).toBeGreaterThan(10_000);
  });
});

describe('MmdbFile on a hand-made database', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dialguard-mmdb-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A pointer to `target` of the data section, in the encoding of `size` (0-3). */
  const pointer = (target: number, size: 0 | 1 | 2 | 3): Buffer => {
    if (size === 0) return Buffer.from([0x20 | (target >> 8), target & 255]);
    if (size === 1) return Buffer.from([0x28 | ((target - 2048) >> 16), ((target - 2048) >> 8) & 255, (target - 2048) & 255]);
    if (size === 2) {
      const q = target - 526336;
      return Buffer.from([0x30 | (q >>> 24), (q >>> 16) & 255, (q >>> 8) & 255, q & 255]);
    }
    return Buffer.from([0x38, (target >>> 24) & 255, (target >>> 16) & 255, (target >>> 8) & 255, target & 255]);
  };

  it('follows pointers of every size and decodes every scalar type', () => {
    const data = Buffer.alloc(700_000);
    const strings: Array<[number, string, 0 | 1 | 2 | 3]> = [
      [100, 'near', 0],
      [3000, 'past 2 KB', 1],
      [600_000, 'past 514 KB', 2],
      [600_100, 'anywhere', 3],
    ];
    for (const [at, s] of strings) encodeMmdbValue(s).copy(data, at);
    const key = (k: string): Buffer => encodeMmdbValue(k);
    const fields = [
      ...strings.flatMap(([at, , size]) => [key(`p${size}`), pointer(at, size)]),
      key('u16'), Buffer.from([(5 << 5) | 2, 0x01, 0x2c]),
      key('u64'), Buffer.from([8, 9 - 7, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0]),
      key('int'), Buffer.from([4, 8 - 7, 0xff, 0xff, 0xff, 0xfb]),
      key('flag'), Buffer.from([1, 14 - 7]),
      key('double'), Buffer.concat([Buffer.from([(3 << 5) | 8]), Buffer.from(new Float64Array([2.5]).buffer).reverse()]),
      key('float'), Buffer.concat([Buffer.from([4, 15 - 7]), Buffer.from(new Float32Array([0.5]).buffer).reverse()]),
      key('country_code'), encodeMmdbValue('fr'),
    ];
    const record = Buffer.concat([Buffer.from([(7 << 5) | (fields.length / 2)]), ...fields]);
    const recordAt = 650_000;
    record.copy(data, recordAt);
    const path = join(dir, 'pointers.mmdb');
    writeMmdb(path, 8, data, recordAt);
    const file = new MmdbFile(path);
    const offset = file.recordOffset(Uint8Array.from([8, 8, 8, 8]));
    expect(offset).toBe(recordAt);
    expect(file.record(offset as number)).toEqual({
      p0: 'near',
      p1: 'past 2 KB',
      p2: 'past 514 KB',
      p3: 'anywhere',
      u16: 300,
      u64: 0x123456789abcdef0n,
      int: -5,
      flag: true,
      double: 2.5,
      float: 0.5,
      country_code: 'fr',
    });
    expect(file.recordOffset(Uint8Array.from([9, 9, 9, 9]))).toBeNull();
    expect(file.recordOffset(new Uint8Array(16))).toBeNull();
    file.close();
  });

  it('says what is wrong with a tree that points past the end of its file', () => {
    const path = join(dir, 'truncated.mmdb');
    writeMmdb(path, 8, encodeMmdbValue({ country_code: 'FR' }), 5000);
    const file = new MmdbFile(path);
    expect(() => file.record(file.recordOffset(Uint8Array.from([8, 1, 2, 3])) as number)).toThrow(MmdbFormatError);
    file.close();
  });
});
