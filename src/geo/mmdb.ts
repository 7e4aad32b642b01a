import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/**
 * A MaxMind DB (mmdb, format 2) read from its open file, never whole: the search tree of a
 * country database is most of its 8 MB, and a lookup walks 32 to 128 of its nodes. Blocks of the
 * file are read as lookups reach them and kept, a bounded number, so that the tree's top levels
 * (every lookup's first steps) stay in memory and the rest costs one read when a new address
 * needs it. The file stays open: a database replaced by renaming a new one over it (as
 * geoipupdate does) goes on being read from the file that was opened, whole and consistent.
 *
 * Format: https://maxmind.github.io/MaxMind-DB/ (search tree, 16-byte separator, data section,
 * metadata after the last "\xAB\xCD\xEFMaxMind.com").
 */
export interface MmdbMetadata {
  nodeCount: number;
  recordSize: 24 | 28 | 32;
  ipVersion: 4 | 6;
  buildEpoch: Date;
}

/** The file does not follow the format; the caller names the file. */
export class MmdbFormatError extends Error {}

const BLOCK_BYTES = 4096;
/** 1 MB of the file at most. */
const BLOCKS_KEPT = 256;
const METADATA_MARKER = Buffer.from('abcdef4d61784d696e642e636f6d', 'hex');
/** The format puts the metadata within the file's last 128 KiB. */
const METADATA_MAX_BYTES = 128 * 1024;
const SEPARATOR_BYTES = 16;
/** Nested maps and arrays deeper than this are a corrupt file, not a record. */
const MAX_DEPTH = 32;

/** Reads of one open file in blocks, the most recently used BLOCKS_KEPT of them kept. */
class BlockFile {
  private readonly blocks = new Map<number, Buffer>();

  constructor(
    private readonly fd: number,
    readonly size: number,
  ) {}

  /** `length` bytes at `offset`: a view of a kept block, or a copy when they straddle two. */
  bytes(offset: number, length: number): Buffer {
    if (offset < 0 || offset + length > this.size) throw new MmdbFormatError(`a reference past the end of the file (byte ${offset})`);
    const index = Math.floor(offset / BLOCK_BYTES);
    const start = offset - index * BLOCK_BYTES;
    if (start + length <= BLOCK_BYTES) return this.block(index).subarray(start, start + length);
    const out = Buffer.allocUnsafe(length);
    for (let done = 0; done < length; ) {
      const at = offset + done;
      const block = this.block(Math.floor(at / BLOCK_BYTES));
      const from = at % BLOCK_BYTES;
      done += block.copy(out, done, from, Math.min(block.length, from + length - done));
    }
    return out;
  }

  close(): void {
    closeSync(this.fd);
  }

  private block(index: number): Buffer {
    const kept = this.blocks.get(index);
    if (kept) {
      this.blocks.delete(index);
      this.blocks.set(index, kept);
      return kept;
    }
    const start = index * BLOCK_BYTES;
    const block = Buffer.allocUnsafeSlow(Math.min(BLOCK_BYTES, this.size - start));
    let done = 0;
    while (done < block.length) {
      const n = readSync(this.fd, block, done, block.length - done, start + done);
      if (n === 0) throw new MmdbFormatError('the file became shorter while open');
      done += n;
    }
    this.blocks.set(index, block);
    if (this.blocks.size > BLOCKS_KEPT) this.blocks.delete(this.blocks.keys().next().value as number);
    return block;
  }
}

export class MmdbFile {
  readonly metadata: MmdbMetadata;
  private readonly file: BlockFile;
  private readonly nodeBytes: number;
  private readonly dataStart: number;
  /** Where an IPv4 address's walk starts: the root, or in an IPv6 tree the node of ::/96. */
  private readonly ipv4Root: number;

  /** Opens `path` and reads its metadata; throws what openSync throws, or MmdbFormatError. */
  constructor(path: string) {
    const fd = openSync(path, 'r');
    try {
      this.file = new BlockFile(fd, fstatSync(fd).size);
      this.metadata = readMetadata(this.file);
      this.nodeBytes = (this.metadata.recordSize * 2) / 8;
      this.dataStart = this.metadata.nodeCount * this.nodeBytes + SEPARATOR_BYTES;
      if (this.dataStart > this.file.size) throw new MmdbFormatError(`a search tree of ${this.metadata.nodeCount} nodes does not fit in ${this.file.size} bytes`);
      this.ipv4Root = this.metadata.ipVersion === 6 ? this.walk(0, new Uint8Array(12), 96) : 0;
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  /**
   * The data-section offset of the record for `address` (4 or 16 bytes), or null when the tree
   * has none. An IPv6 address in an IPv4 database has none.
   */
  recordOffset(address: Uint8Array): number | null {
    if (address.length === 16 && this.metadata.ipVersion === 4) return null;
    const node = this.walk(address.length === 4 ? this.ipv4Root : 0, address, address.length * 8);
    const { nodeCount } = this.metadata;
    if (node <= nodeCount) return null;
    return node - nodeCount - SEPARATOR_BYTES;
  }

  /** The value at `offset` of the data section, maps as plain objects. */
  record(offset: number): unknown {
    return decode(this.file, this.dataStart, this.dataStart + offset, 0).value;
  }

  close(): void {
    this.file.close();
  }

  /** Follows `bits` bits of `address` from `node`; stops early at a record or at "none" (a value >= nodeCount). */
  private walk(node: number, address: Uint8Array, bits: number): number {
    const { nodeCount, recordSize } = this.metadata;
    for (let i = 0; i < bits && node < nodeCount; i++) {
      const right = ((address[i >> 3] as number) >> (7 - (i & 7))) & 1;
      const b = this.file.bytes(node * this.nodeBytes, this.nodeBytes);
      if (recordSize === 24) node = right ? b.readUIntBE(3, 3) : b.readUIntBE(0, 3);
      else if (recordSize === 28) node = right ? (((b[3] as number) & 0x0f) << 24) | b.readUIntBE(4, 3) : (((b[3] as number) & 0xf0) << 20) | b.readUIntBE(0, 3);
      else node = right ? b.readUInt32BE(4) : b.readUInt32BE(0);
    }
    return node;
  }
}

function readMetadata(file: BlockFile): MmdbMetadata {
  const tailStart = Math.max(0, file.size - METADATA_MAX_BYTES);
  const tail = file.bytes(tailStart, file.size - tailStart);
  const marker = tail.lastIndexOf(METADATA_MARKER);
  if (marker < 0) throw new MmdbFormatError('no MaxMind DB metadata in its last 128 KiB');
  const start = tailStart + marker + METADATA_MARKER.length;
  const meta = decode(file, start, start, 0).value as Record<string, unknown> | null;
  const field = (name: string): unknown => (meta !== null && typeof meta === 'object' ? meta[name] : undefined);
  const nodeCount = field('node_count');
  const recordSize = field('record_size');
  const ipVersion = field('ip_version');
  const buildEpoch = field('build_epoch');
  const major = field('binary_format_major_version');
  if (major !== 2) throw new MmdbFormatError(`binary format version ${String(major)}, not 2`);
  if (typeof nodeCount !== 'number' || !Number.isInteger(nodeCount) || nodeCount < 1) throw new MmdbFormatError('no node_count in its metadata');
  if (recordSize !== 24 && recordSize !== 28 && recordSize !== 32) throw new MmdbFormatError(`record_size ${String(recordSize)}, not 24, 28 or 32`);
  if (ipVersion !== 4 && ipVersion !== 6) throw new MmdbFormatError(`ip_version ${String(ipVersion)}, not 4 or 6`);
  return {
    nodeCount,
    recordSize,
    ipVersion,
    buildEpoch: new Date(Number(buildEpoch ?? 0) * 1000),
  };
}

interface Decoded {
  value: unknown;
  /** The file offset just past the value (past the pointer, for a pointer). */
  next: number;
}

/** Decodes the field at file offset `at`; pointers are relative to `base` (the section's start). */
function decode(file: BlockFile, base: number, at: number, depth: number): Decoded {
  if (depth > MAX_DEPTH) throw new MmdbFormatError(`values nested deeper than ${MAX_DEPTH} at byte ${at}`);
  const control = file.bytes(at, 1)[0] as number;
  let type = control >> 5;
  let offset = at + 1;
  if (type === 1) {
    const sizeBits = (control >> 3) & 3;
    const b = file.bytes(offset, sizeBits + 1);
    const low = control & 7;
    const target =
      sizeBits === 0 ? (low << 8) | (b[0] as number) : sizeBits === 1 ? ((low << 16) | b.readUInt16BE(0)) + 2048 : sizeBits === 2 ? low * 0x1000000 + b.readUIntBE(0, 3) + 526336 : b.readUInt32BE(0);
    return { value: decode(file, base, base + target, depth + 1).value, next: offset + sizeBits + 1 };
  }
  if (type === 0) {
    type = 7 + (file.bytes(offset, 1)[0] as number);
    offset++;
  }
  let size = control & 0x1f;
  if (size >= 29) {
    const extra = size - 28;
    const b = file.bytes(offset, extra);
    size = size === 29 ? 29 + (b[0] as number) : size === 30 ? 285 + b.readUInt16BE(0) : 65821 + b.readUIntBE(0, 3);
    offset += extra;
  }
  switch (type) {
    case 2:
      return { value: file.bytes(offset, size).toString('utf8'), next: offset + size };
    case 3:
      return { value: file.bytes(offset, 8).readDoubleBE(0), next: offset + 8 };
    case 4:
      return { value: Buffer.from(file.bytes(offset, size)), next: offset + size };
    case 5:
    case 6:
    case 9:
    case 10:
      return { value: unsigned(file.bytes(offset, size)), next: offset + size };
    case 8:
      return { value: size === 0 ? 0 : file.bytes(offset, size).readIntBE(0, size), next: offset + size };
    case 14:
      return { value: size !== 0, next: offset };
    case 15:
      return { value: file.bytes(offset, 4).readFloatBE(0), next: offset + 4 };
    case 7: {
      const map: Record<string, unknown> = {};
      for (let i = 0; i < size; i++) {
        const key = decode(file, base, offset, depth + 1);
        const value = decode(file, base, key.next, depth + 1);
        map[String(key.value)] = value.value;
        offset = value.next;
      }
      return { value: map, next: offset };
    }
    case 11: {
      const list: unknown[] = [];
      for (let i = 0; i < size; i++) {
        const item = decode(file, base, offset, depth + 1);
        list.push(item.value);
        offset = item.next;
      }
      return { value: list, next: offset };
    }
    default:
      throw new MmdbFormatError(`a field of unknown type ${type} at byte ${at}`);
  }
}

/** Big-endian unsigned of up to 16 bytes: a number while exact, else a bigint. */
function unsigned(bytes: Buffer): number | bigint {
  if (bytes.length <= 6) return bytes.length === 0 ? 0 : bytes.readUIntBE(0, bytes.length);
  let value = 0n;
  for (const b of bytes) value = (value << 8n) | BigInt(b);
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}
