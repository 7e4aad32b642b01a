import { writeFileSync } from 'node:fs';

/** A value in the MaxMind DB data format: strings, uint32s, arrays and maps. */
export function encodeMmdbValue(value: unknown): Buffer {
  if (typeof value === 'string') return Buffer.concat([Buffer.from([(2 << 5) | value.length]), Buffer.from(value)]);
  if (typeof value === 'number') return Buffer.from([(6 << 5) | 4, (value >>> 24) & 255, (value >>> 16) & 255, (value >>> 8) & 255, value & 255]);
  // Arrays are an extended type: type 0 in the control byte, then 11 - 7.
  if (Array.isArray(value)) return Buffer.concat([Buffer.from([value.length, 11 - 7]), ...value.map(encodeMmdbValue)]);
  const entries = Object.entries(value as Record<string, unknown>);
  return Buffer.concat([Buffer.from([(7 << 5) | entries.length]), ...entries.flatMap(([k, v]) => [encodeMmdbValue(k), encodeMmdbValue(v)])]);
}

/**
 * Writes a minimal MaxMind DB (format 2.0, IPv4 tree, 24-bit records) whose tree maps the /8 of
 * `firstOctet` to the record at `recordOffset` of `data` (the data section) and nothing else.
 */
export function writeMmdb(path: string, firstOctet: number, data: Buffer, recordOffset = 0): void {
  const nodeCount = 8;
  const tree = Buffer.alloc(nodeCount * 6);
  for (let node = 0; node < nodeCount; node++) {
    const bit = (firstOctet >> (7 - node)) & 1;
    // The matching side leads to the next node, or to the data record (node count + 16 + its offset).
    const next = node === nodeCount - 1 ? nodeCount + 16 + recordOffset : node + 1;
    tree.writeUIntBE(bit ? nodeCount : next, node * 6, 3);
    tree.writeUIntBE(bit ? next : nodeCount, node * 6 + 3, 3);
  }
  const metadata = encodeMmdbValue({
    node_count: nodeCount,
    record_size: 24,
    ip_version: 4,
    database_type: 'GeoLite2-Country',
    languages: ['en'],
    binary_format_major_version: 2,
    binary_format_minor_version: 0,
    build_epoch: 1_767_225_600,
    description: { en: 'test' },
  });
  const marker = Buffer.from('abcdef4d61784d696e642e636f6d', 'hex');
  writeFileSync(path, Buffer.concat([tree, Buffer.alloc(16), data, marker, metadata]));
}
