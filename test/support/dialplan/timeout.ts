/**
 * A channel's TIMEOUT(absolute), as func_timeout.c sets and reads it and as the PBX acts on it
 * (shared/asterisk/dialplan-deadline.md, dialplan-facts.md):
 * - `Set(TIMEOUT(absolute)=x)` counts from now and replaces any earlier one; whole seconds then
 *   a fraction (`4.5`), and `0`, a negative value or text cancel it;
 * - `${TIMEOUT(absolute)}` is the seconds left (`4.996`), `0` when none is armed;
 * - when it passes, Asterisk hangs up the application running (AGI() is written "HANGUP\n",
 *   Stasis() ends); the PBX then sees the channel past its timeout (ast_check_hangup()) after
 *   the priority, and either runs `T` (clearing the timeout) or hangs up.
 */
import { performance } from 'node:perf_hooks';

export class AbsoluteTimeout {
  private dueAt: number | null = null;
  private fired = false;
  private timer?: NodeJS.Timeout;
  private interrupt?: () => void;

  /** func_timeout.c timeout_write(); returns the line it logs. */
  set(value: string): string {
    clearTimeout(this.timer);
    this.fired = false;
    const parsed = /^\s*([-+]?\d+)(\.\d*)?/.exec(value);
    const seconds = parsed ? Number(parsed[1]) + Number(`0${parsed[2] ?? ''}`) : 0;
    if (!parsed || Number(parsed[1]) < 0 || seconds === 0) {
      this.dueAt = null;
      return 'VERBOSE func_timeout.c: Channel hangup cancelled.';
    }
    this.dueAt = performance.now() + seconds * 1000;
    this.timer = setTimeout(() => {
      this.fired = true;
      this.interrupt?.();
    }, seconds * 1000);
    const at = new Date(Date.now() + seconds * 1000).toISOString().replace('T', ' ').replace('Z', ' UTC');
    return `VERBOSE func_timeout.c: Channel will hangup at ${at}.`;
  }

  /** func_timeout.c timeout_read(): ast_tvdiff_ms() (whole milliseconds) over 1000, `%.3f`. */
  read(): string {
    return this.dueAt === null ? '0' : (Math.trunc(this.leftSeconds() * 1000) / 1000).toFixed(3);
  }

  leftSeconds(): number {
    return this.dueAt === null ? 0 : Math.max(0, this.dueAt - performance.now()) / 1000;
  }

  /** ast_check_hangup(): the channel is past its absolute timeout. */
  due(): boolean {
    return this.dueAt !== null && (this.fired || performance.now() >= this.dueAt);
  }

  /** pbx.c zeroes the timeout when it jumps to T (else T would time out at once), and at hangup. */
  clear(): void {
    clearTimeout(this.timer);
    this.dueAt = null;
    this.fired = false;
  }

  /**
   * While an application that Asterisk hangs up at the deadline runs: `interrupt` is called
   * when the timeout fires, at once if it already has. The returned function ends that.
   */
  during(interrupt: () => void): () => void {
    this.interrupt = interrupt;
    if (this.due()) interrupt();
    return () => {
      this.interrupt = undefined;
    };
  }
}
