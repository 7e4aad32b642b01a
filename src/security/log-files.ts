import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import { causeText } from '../errors.js';

/**
 * Reads an Asterisk log file line by line in bounded memory: plain or gzip (a rotated
 * `messages.2.gz`; told by its magic bytes, not its name), a chunk at a time. A line longer than
 * MAX_LINE_CHARS (a binary file given by mistake) is cut there and reported as overlong, never
 * held whole.
 */
export const MAX_LINE_CHARS = 64 * 1024;

export interface LogFileInfo {
  path: string;
  /** The file's modification time: the reference for year-less dates. */
  mtimeMs: number;
  /** Bytes on disk (compressed for .gz), for progress. */
  size: number;
  gzip: boolean;
}

/** Opens nothing: stats the file and reads its first two bytes. Throws a plain Error naming the cause. */
export async function inspectLogFile(path: string): Promise<LogFileInfo> {
  const info = await stat(path);
  if (!info.isFile()) throw new Error('not a regular file');
  const handle = await open(path, 'r');
  try {
    const magic = Buffer.alloc(2);
    const { bytesRead } = await handle.read(magic, 0, 2, 0);
    return { path, mtimeMs: info.mtimeMs, size: info.size, gzip: bytesRead === 2 && magic[0] === 0x1f && magic[1] === 0x8b };
  } finally {
    await handle.close();
  }
}

export interface LineSink {
  line(text: string): void;
  /** A line cut at MAX_LINE_CHARS. */
  overlong?(): void;
  /** Bytes of the file read so far (compressed bytes for gzip). */
  progress?(bytes: number): void;
}

/** Streams the file's lines to `sink`; rejects with the cause when the file cannot be read to its end. */
export async function readLogLines(file: LogFileInfo, sink: LineSink): Promise<void> {
  const raw = createReadStream(file.path, { highWaterMark: 256 * 1024 });
  let bytes = 0;
  raw.on('data', (chunk) => {
    bytes += chunk.length;
    sink.progress?.(bytes);
  });
  const input: Readable = file.gzip ? raw.pipe(createGunzip()) : raw;
  if (file.gzip) raw.once('error', (err) => input.destroy(err));
  try {
    await splitLines(input, sink);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    // zlib's errors carry an errno that is not a system one: its message is the cause.
    throw new Error(typeof code === 'string' && code.startsWith('Z_') ? `gzip: ${(err as Error).message}` : causeText(err));
  } finally {
    raw.destroy();
  }
}

/** Lines of a byte stream (UTF-8, `\n` or `\r\n`), handed over as they complete. */
export async function splitLines(input: AsyncIterable<Buffer | string>, sink: LineSink): Promise<void> {
  const decoder = new StringDecoder('utf8');
  let carry = '';
  let cut = false;
  const emit = (line: string): void => {
    if (line.length > MAX_LINE_CHARS) {
      sink.line(line.slice(0, MAX_LINE_CHARS));
      sink.overlong?.();
    } else sink.line(line.endsWith('\r') ? line.slice(0, -1) : line);
  };
  const take = (text: string): void => {
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      const piece = text.slice(start, nl);
      start = nl + 1;
      if (cut) {
        // The rest of a line already reported as overlong.
        cut = false;
        continue;
      }
      emit(carry === '' ? piece : carry + piece);
      carry = '';
    }
    if (cut) return;
    carry += text.slice(start);
    if (carry.length > MAX_LINE_CHARS) {
      emit(carry);
      carry = '';
      cut = true;
    }
  };
  for await (const chunk of input) take(typeof chunk === 'string' ? chunk : decoder.write(chunk));
  take(decoder.end());
  if (carry !== '' && !cut) emit(carry);
}
