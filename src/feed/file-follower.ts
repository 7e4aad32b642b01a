/**
 * Follows a log file by name the way `tail -F` does: starts at its end (what was written before
 * the guard started is forensics' job), reads what is appended, and survives rotation:
 * - by rename (logrotate's default, Asterisk's `logger rotate`): the old file is read to its end
 *   for as long as nothing new is at the path (Asterisk writes to it until it reopens its logs),
 *   then the new file is read from its start;
 * - by copytruncate: the file shrinks under the read position, which goes back to 0;
 * - deleted and recreated later: the new file is read from its start.
 * It polls (fs.watch misses renames on some file systems and across NFS); a line cut by a poll
 * is kept until its end arrives. Memory is bounded: a line longer than `maxLineBytes` is dropped.
 */
import { open, stat, type FileHandle } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import type { Logger } from 'pino';
import { causeText } from '../errors.js';

export interface FileFollowerOptions {
  path: string;
  logger: Logger;
  /** Each complete line, without its LF. Must not throw (a throw is logged and following goes on). */
  onLine(line: string): void;
  /** Each line dropped for its length. */
  onOversize?(): void;
  /** Default 500. */
  pollIntervalMs?: number;
  /** Default 64 KiB; a security line is under 1 KB. */
  maxLineBytes?: number;
}

export interface FileFollower {
  /** Stops polling and closes the file; resolves once a read in progress has finished. Idempotent. */
  close(): Promise<void>;
}

const READ_BYTES = 64 * 1024;
const LF = 0x0a;

interface OpenFile {
  handle: FileHandle;
  dev: number;
  ino: number;
  position: number;
}

export function followFile(options: FileFollowerOptions): FileFollower {
  const { path, logger, pollIntervalMs = 500, maxLineBytes = 64 * 1024 } = options;
  const log = logger.child({ securityLog: path });
  let current: OpenFile | null = null;
  /** Only the file found at start is read from its end; any file after it is new and read whole. */
  let first = true;
  let pending: Buffer = Buffer.alloc(0);
  let discarding = false;
  let problem: string | null = null;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let polling: Promise<void> = Promise.resolve();
  const buffer = Buffer.allocUnsafe(READ_BYTES);

  function emit(line: string): void {
    try {
      options.onLine(line);
    } catch (err) {
      log.error({ err }, 'security log line handler failed; following goes on');
    }
  }

  function split(chunk: Buffer): void {
    const data = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
    let start = 0;
    for (let lf = data.indexOf(LF, start); lf !== -1; lf = data.indexOf(LF, start)) {
      if (discarding) discarding = false;
      else if (lf - start > maxLineBytes) oversize();
      else emit(data.toString('utf8', start, lf));
      start = lf + 1;
    }
    const rest = data.subarray(start);
    if (!discarding && rest.length > maxLineBytes) {
      discarding = true;
      oversize();
    }
    pending = discarding ? Buffer.alloc(0) : Buffer.from(rest);
  }

  function oversize(): void {
    log.warn({ maxLineBytes }, 'security log line longer than the limit dropped');
    options.onOversize?.();
  }

  /** The partial line held when a file is left for good: its writer is done with it. */
  function flushPartial(): void {
    if (pending.length > 0 && !discarding) emit(pending.toString('utf8'));
    pending = Buffer.alloc(0);
    discarding = false;
  }

  async function drain(file: OpenFile): Promise<void> {
    for (;;) {
      const { bytesRead } = await file.handle.read(buffer, 0, READ_BYTES, file.position);
      if (bytesRead === 0) return;
      file.position += bytesRead;
      split(buffer.subarray(0, bytesRead));
      if (closed) return;
    }
  }

  async function openAt(stats: Stats): Promise<void> {
    const handle = await open(path, 'r');
    // What was opened may already differ from what was stat'ed (a rotation in between): trust the handle.
    const opened = await handle.stat();
    const position = first ? opened.size : 0;
    first = false;
    current = { handle, dev: opened.dev, ino: opened.ino, position };
    if (opened.ino !== stats.ino) log.debug('security log replaced while it was opened');
  }

  async function poll(): Promise<void> {
    let stats: Stats | null;
    try {
      stats = await stat(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      stats = null;
    }
    if (first && stats === null) first = false;
    const file = current;
    if (file) {
      const replaced = stats !== null && (stats.ino !== file.ino || stats.dev !== file.dev);
      if (!replaced && stats !== null && stats.size < file.position) {
        log.info('security log truncated (copytruncate); reading it from the start');
        file.position = 0;
        pending = Buffer.alloc(0);
        discarding = false;
      }
      await drain(file);
      if (!replaced) return;
      flushPartial();
      current = null;
      await file.handle.close();
      log.info('security log rotated; following the new file');
    }
    if (stats !== null && stats.isFile() && !closed) {
      await openAt(stats);
      if (current) await drain(current);
    }
  }

  function schedule(): void {
    if (closed) return;
    timer = setTimeout(() => {
      polling = poll().then(
        () => {
          if (problem !== null) log.info('security log readable again');
          problem = null;
        },
        (err: unknown) => {
          const reason = causeText(err);
          // One warning per distinct problem, not one per poll.
          if (reason !== problem) log.warn({ reason }, 'cannot read the security log; retrying');
          problem = reason;
        },
      );
      void polling.then(schedule);
    }, pollIntervalMs);
  }

  // The first poll at once: "start at the end" means the end as of now, not as of the first interval.
  polling = poll().then(
    // Said once the position is set: a line written after this message is read, one written before may not be.
    () => log.info({ position: current?.position ?? null }, 'following the security log'),
    (err: unknown) => {
      // As tail -F: a file that becomes readable later is read from its start.
      first = false;
      problem = causeText(err);
      log.warn({ reason: problem }, 'cannot read the security log; retrying');
    },
  );
  void polling.then(schedule);

  let closing: Promise<void> | undefined;
  return {
    close() {
      closing ??= (async () => {
        closed = true;
        clearTimeout(timer);
        await polling;
        const file = current;
        current = null;
        await file?.handle.close();
      })();
      return closing;
    },
  };
}
