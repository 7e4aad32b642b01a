import type { Logger } from 'pino';
import type { ChannelVariables } from '../guard/channel-variables.js';
import type { AriClient, ChannelOpResult } from './client.js';
import type { StasisChannelInfo } from './events.js';

export type ChannelOps = Pick<AriClient, 'setVariable' | 'continueInDialplan'>;

/**
 * Whether DIALGUARD_RESULT reached the channel: `unknown` when its request went out but got no
 * answer in time (Asterisk may still have applied it).
 */
export type ResultDelivery = 'set' | 'not-set' | 'unknown';

const RESULT_VARIABLE = 'DIALGUARD_RESULT';
/**
 * A channel that is not continued waits in Stasis until its caller gives up (ari-app-silent.json),
 * so a failed continue is tried again, e.g. across a reconnect; a 404 ends it.
 */
const CONTINUE_RETRY_DELAYS_MS = [250, 1000, 4000];

/**
 * One channel in the app, from its StasisStart to its StasisEnd. It knows when the channel is
 * gone (StasisEnd, hangup, or a 404 from Asterisk) and answers it the only way Stasis() can be
 * answered: the variables one request at a time, in order, then `continue`.
 */
export class StasisChannel {
  private isGone = false;
  private readonly goneWaiters = new Set<() => void>();

  constructor(
    readonly info: StasisChannelInfo,
    private readonly ops: ChannelOps,
    readonly log: Logger,
  ) {}

  get gone(): boolean {
    return this.isGone;
  }

  markGone(): void {
    if (this.isGone) return;
    this.isGone = true;
    for (const wake of this.goneWaiters) wake();
    this.goneWaiters.clear();
  }

  /** True as soon as the channel is gone; false if it is still there after `ms`. */
  goneWithin(ms: number): Promise<boolean> {
    if (this.isGone) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.goneWaiters.delete(wake);
        resolve(false);
      }, ms);
      this.goneWaiters.add(wake);
    });
  }

  /**
   * Sets `variables` in order until `until` (epoch ms), then continues the channel in the
   * dialplan, given at least `continueTimeoutMs`. Stops at the first variable that fails: the
   * ones after it, DIALGUARD_RESULT last, stay unset and the dialplan fails closed.
   */
  async answer(variables: ChannelVariables, until: number, continueTimeoutMs: number): Promise<ResultDelivery> {
    let result: ResultDelivery = 'not-set';
    for (const [name, value] of variables) {
      if (this.isGone) break;
      const left = until - Date.now();
      if (left <= 0) {
        this.log.warn({ variable: name }, 'answer deadline passed: continuing without the remaining variables');
        break;
      }
      const outcome = await this.ops.setVariable(this.info.id, name, value, left);
      if (!outcome.ok) {
        this.failed(outcome, `set ${name}`);
        if (name === RESULT_VARIABLE && outcome.reason === 'timeout') result = 'unknown';
        break;
      }
      if (name === RESULT_VARIABLE) result = 'set';
    }
    if (!this.isGone) await this.continueInDialplan(until, continueTimeoutMs);
    return result;
  }

  private async continueInDialplan(until: number, continueTimeoutMs: number): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.ops.continueInDialplan(this.info.id, Math.max(until - Date.now(), continueTimeoutMs));
      if (outcome.ok) return;
      this.failed(outcome, 'continue');
      if (this.isGone) return;
      const delay = CONTINUE_RETRY_DELAYS_MS[attempt];
      if (delay === undefined) {
        this.log.error({ attempts: attempt + 1 }, 'could not continue the channel: it stays in Stasis until the caller hangs up');
        return;
      }
      if (await this.goneWithin(delay)) return;
    }
  }

  private failed(outcome: Exclude<ChannelOpResult, { ok: true }>, what: string): void {
    if (outcome.reason === 'gone') {
      // A caller who hung up, or a hangup handler's dead channel: expected, nothing to repair.
      this.markGone();
      this.log.debug({ what, detail: outcome.detail }, 'channel gone');
      return;
    }
    this.log.warn({ what, reason: outcome.reason, detail: outcome.detail }, 'ARI channel operation failed');
  }
}
