/** Bucket width: a window is summed over its minutes, not over its events. */
export const BUCKET_MS = 60_000;

/**
 * Counts per minute, oldest first, kept for `retentionMs`: a sliding-window sum costs one step
 * per minute that had events, however many events a minute held. Sparse (two numbers per busy
 * minute), so a source seen once costs a few bytes, not a week of empty slots.
 */
export class MinuteBuckets {
  private readonly minutes: number[] = [];
  private readonly counts: number[] = [];

  constructor(private readonly retentionMs: number) {}

  /** One more at `at` (ms); buckets older than the retention before `at` are dropped. */
  add(at: number): void {
    const minute = Math.floor(at / BUCKET_MS);
    const last = this.minutes.length - 1;
    if (last >= 0 && this.minutes[last] === minute) this.counts[last] = (this.counts[last] as number) + 1;
    else if (last < 0 || (this.minutes[last] as number) < minute) {
      this.minutes.push(minute);
      this.counts.push(1);
    } else this.insertEarlier(minute);
    this.expire(at);
  }

  /** Events in the window `(at - windowMs, at]`, to the minute: events after `at` are not counted. */
  sum(windowMs: number, at: number): number {
    const from = Math.floor((at - windowMs) / BUCKET_MS);
    const to = Math.floor(at / BUCKET_MS);
    let total = 0;
    for (let i = this.minutes.length - 1; i >= 0; i--) {
      const minute = this.minutes[i] as number;
      if (minute <= from) break;
      if (minute <= to) total += this.counts[i] as number;
    }
    return total;
  }

  /** A copy that later adds to this one do not change. */
  clone(): MinuteBuckets {
    const copy = new MinuteBuckets(this.retentionMs);
    copy.minutes.push(...this.minutes);
    copy.counts.push(...this.counts);
    return copy;
  }

  /** Nothing left within the retention. */
  get empty(): boolean {
    return this.minutes.length === 0;
  }

  /** Events arrive in time order but for a few ms between threads; a late one goes to its own minute. */
  private insertEarlier(minute: number): void {
    let i = this.minutes.length - 1;
    while (i >= 0 && (this.minutes[i] as number) > minute) i--;
    if (i >= 0 && this.minutes[i] === minute) this.counts[i] = (this.counts[i] as number) + 1;
    else {
      this.minutes.splice(i + 1, 0, minute);
      this.counts.splice(i + 1, 0, 1);
    }
  }

  private expire(at: number): void {
    const oldest = Math.floor((at - this.retentionMs) / BUCKET_MS);
    let drop = 0;
    while (drop < this.minutes.length && (this.minutes[drop] as number) <= oldest) drop++;
    if (drop > 0) {
      this.minutes.splice(0, drop);
      this.counts.splice(0, drop);
    }
  }
}
