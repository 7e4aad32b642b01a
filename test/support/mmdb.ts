import { readFileSync, writeFileSync } from 'node:fs';
import { defaultGeoIpPath } from '../../src/geo/geoip.js';

const METADATA_MARKER = Buffer.from('\xab\xcd\xefMaxMind.com', 'latin1');

/**
 * A copy of the shipped DB-IP mmdb whose metadata says it was built at `builtAt`: the real file,
 * read by the real reader, with the 4 bytes of `build_epoch` (a uint64 stored in 4 bytes: control
 * byte 0x04, extended type byte 0x02) rewritten.
 */
export function mmdbBuiltAt(destination: string, builtAt: Date): string {
  const bytes = Buffer.from(readFileSync(defaultGeoIpPath()));
  const metadata = bytes.lastIndexOf(METADATA_MARKER);
  const key = bytes.indexOf(Buffer.from('\x4bbuild_epoch', 'latin1'), metadata);
  const value = key + 12;
  if (metadata < 0 || key < 0 || bytes[value] !== 0x04 || bytes[value + 1] !== 0x02) throw new Error('unexpected mmdb metadata layout');
  bytes.writeUInt32BE(Math.floor(builtAt.getTime() / 1000), value + 2);
  writeFileSync(destination, bytes);
  return destination;
}
