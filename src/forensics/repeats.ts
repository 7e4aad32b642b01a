import { basename, dirname, join } from 'node:path';

/**
 * One request is told by several lines (README fact 7) and several logs (`full` repeats
 * `messages`, `security` tells it again as events). Forensics counts it once without remembering
 * every request it read, so that its memory does not grow with the size of the logs:
 * - within a log, a request's lines are within a second of each other: a key is remembered for
 *   a minute of log time (RecentKeys), then forgotten;
 * - across files, each log (a file and its rotations) keeps its own count, and the count is the
 *   most any one log tells, service by service (StreamCount): messages, full and security each
 *   saw the same requests.
 */

/** `messages`, `messages.1`, `messages.2.gz` and logrotate's `messages-20261201.gz` are one log; `full` is another. */
export function logOf(path: string): string {
  const name = basename(path)
    .replace(/\.gz$/, '')
    .replace(/(\.\d+|-\d{8}(\d{2})?)$/, '');
  return join(dirname(path), name);
}

/** A request's lines lie within a second; a minute of log time leaves room for threads writing out of order. */
const SPAN_MS = 60_000;
/** More keys than this within the span (hundreds of requests a second) forget the oldest first. */
const MAX_KEYS = 20_000;

/** Keys seen in the last minute of one log's time (at most MAX_KEYS, whatever order the lines come in). */
export class RecentKeys {
  private readonly keys = new Map<number, number>();
  private newest = -Infinity;

  /** True the first time `key` is seen within the span. */
  first(key: number, at: number): boolean {
    if (at > this.newest) {
      this.newest = at;
      // Insertion order is time order, near enough: stop at the first key still within the span.
      for (const [k, seenAt] of this.keys) {
        if (seenAt >= at - SPAN_MS) break;
        this.keys.delete(k);
      }
    }
    if (this.keys.has(key)) return false;
    this.keys.set(key, at);
    if (this.keys.size > MAX_KEYS) this.keys.delete(this.keys.keys().next().value as number);
    return true;
  }

  get size(): number {
    return this.keys.size;
  }
}

/**
 * A count that several logs tell at once: each log's own sum per service, the most any log tells
 * for each service, added up (a `messages` log may tell the SIP requests and the AMI logins that a
 * `security` log without AMI events does not).
 */
export class StreamCount {
  private readonly counts = new Map<string, number>();
  private readonly most = new Map<string, number>();
  value = 0;

  add(log: string, service = ''): void {
    const key = `${service}\u0000${log}`;
    const n = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, n);
    const before = this.most.get(service) ?? 0;
    if (n > before) {
      this.most.set(service, n);
      this.value += n - before;
    }
  }
}

/**
 * RecentKeys per log: the rotations of one log share theirs, so that a request whose lines the
 * rotation cut in two is still one (the files are read oldest first).
 */
export class LogWindows {
  private readonly windows = new Map<string, RecentKeys>();

  first(log: string, key: number, at: number): boolean {
    let w = this.windows.get(log);
    if (!w) this.windows.set(log, (w = new RecentKeys()));
    return w.first(key, at);
  }

  get size(): number {
    let n = 0;
    for (const w of this.windows.values()) n += w.size;
    return n;
  }
}
