/**
 * What the app does with a StasisStart, by its first argument, on the same core path as the
 * FastAGI handlers: `authorize` decides through the decision queue and sets the channel
 * variables of the dialplan contract; `settle` settles from the arguments alone; anything else
 * is answered DENY guard_error. Every channel still in Stasis is continued.
 */
import { requestFromArgs } from '../guard/authorize-args.js';
import { reportDecision, secondsSince } from '../guard/report-decision.js';
import { reportSettlement } from '../guard/report-settlement.js';
import type { Logger } from 'pino';
import type { DecisionRequest } from '../domain/decision.js';
import { DialguardError } from '../errors.js';
import { decisionVariables, guardErrorVariables } from '../guard/channel-variables.js';
import type { DecisionQueue } from '../guard/decision-queue.js';
import type { Guard } from '../guard/guard.js';
import type { GuardObserver } from '../guard/observer.js';
import { settlementFromArgs } from '../guard/settlement-args.js';
import type { AuditedDecision } from '../store/roles/decisions.js';
import type { StasisChannelInfo } from './events.js';
import type { StasisChannel } from './stasis-channel.js';

export const AriErrorCode = {
  /** Stasis(app,WHAT,…) with WHAT neither authorize nor settle. */
  unknownCommand: 'DG_ARI_UNKNOWN_COMMAND',
} as const;

export interface StasisHandlerDeps {
  guard: Guard;
  /** Group commit of authorizations; see guard/decision-queue.ts. */
  decisions: DecisionQueue;
  logger: Logger;
  observer: GuardObserver;
  now?: () => Date;
  /** From StasisStart to the decision; later, the channel gets DENY guard_error. */
  answerDeadlineMs: number;
  /** After the deadline, time left to set the variables before the channel is continued without the rest. */
  deliveryGraceMs: number;
  /** The least time given to the continue request, however late it is. */
  continueTimeoutMs: number;
  /** How long a settle waits for the StasisEnd of a dead channel before treating the channel as live. */
  settleGraceMs: number;
}

/** Serves one StasisStart; never rejects. */
export type StasisDispatcher = (channel: StasisChannel, args: string[]) => Promise<void>;

/** `Stasis(dialguard,authorize,EXT,NUMBER,SOURCE,ORIGIN)`. */
export function requestFromStasis(args: readonly string[], channel: StasisChannelInfo, at: Date): DecisionRequest {
  const caller = { channel: channel.name, uniqueid: channel.id, context: channel.context, callerid: channel.callerNumber, calleridname: channel.callerName };
  return requestFromArgs(args, caller, 'ari', at);
}

type Outcome<T> = { kind: 'done'; value: T } | { kind: 'failed'; error: unknown } | { kind: 'late' };

export function createStasisDispatcher(deps: StasisHandlerDeps): StasisDispatcher {
  const { guard, decisions, observer, answerDeadlineMs, deliveryGraceMs, continueTimeoutMs, settleGraceMs } = deps;
  const now = deps.now ?? (() => new Date());

  /** An ALLOW that never reached the channel will not be dialled: give its reservation back now. */
  const release = async (decision: AuditedDecision, dialStatus: string, log: Logger): Promise<void> => {
    if (decision.result !== 'ALLOW') return;
    try {
      const result = await guard.settle(settlementFromArgs(decision.callId, '', dialStatus, now()).request);
      observer.observeSettlement(result.outcome);
      log.info({ callId: decision.callId, dialStatus, outcome: result.outcome }, 'ALLOW not delivered: reservation released');
    } catch (err) {
      log.error({ callId: decision.callId, err }, 'could not release the reservation of an undelivered ALLOW; it expires by itself');
    }
  };

  const authorize = async (channel: StasisChannel, args: string[], deadline: number, until: number): Promise<void> => {
    const { log } = channel;
    const started = process.hrtime.bigint();
    const request = requestFromStasis(args, channel.info, now());
    const pending = decisions.authorize(request);
    const outcome = await by(pending, deadline - Date.now());
    if (outcome.kind === 'done') {
      const decision = outcome.value;
      reportDecision(observer, log, decision, request, secondsSince(started));
      const delivered = await channel.answer(decisionVariables(decision, decision.callId), until, continueTimeoutMs);
      if (delivered === 'not-set') await release(decision, channel.gone ? 'CANCEL' : 'NOT_DELIVERED', log);
      return;
    }
    if (outcome.kind === 'late') {
      observer.observeGuardError('ari', 'DG_DEADLINE');
      log.error({ deadlineMs: answerDeadlineMs }, 'no decision within the answer deadline: answering guard_error');
      // Still audited when it comes; the channel was told guard_error, so the call is not dialled.
      pending.then(
        (decision) => {
          reportDecision(observer, log, decision, request, secondsSince(started));
          log.warn({ callId: decision.callId }, 'decision made after the answer deadline');
          return release(decision, 'NOT_DELIVERED', log);
        },
        (err: unknown) => log.warn({ err }, 'decision failed after the answer deadline'),
      );
    } else {
      const code = outcome.error instanceof DialguardError ? outcome.error.code : 'DG_INTERNAL';
      observer.observeGuardError('ari', code);
      log.error({ code, err: outcome.error }, 'answering guard_error');
    }
    await channel.answer(guardErrorVariables(), until, continueTimeoutMs);
  };

  const settle = async (channel: StasisChannel, args: string[], until: number): Promise<void> => {
    const { log } = channel;
    const [callId = '', answered = '', dialStatus = ''] = args;
    let summary: string;
    try {
      const settlement = settlementFromArgs(callId, answered, dialStatus, now());
      const result = await guard.settle(settlement.request);
      reportSettlement(observer, log, settlement, result);
      summary = `${result.outcome} ${result.callId}`;
    } catch (err) {
      const code = err instanceof DialguardError ? err.code : 'DG_INTERNAL';
      observer.observeError(code);
      log.error({ code, err, callId }, 'settlement failed');
      summary = `error ${callId.trim()}`;
    }
    // From a hangup handler the channel is already dead: its StasisEnd comes with the StasisStart
    // and every operation would get 404 (ari-settle-session.json). Then nothing is sent.
    if (await channel.goneWithin(settleGraceMs)) {
      log.debug('settled from a dead channel: nothing to send');
      return;
    }
    await channel.answer([['DIALGUARD_SETTLED', summary]], until, continueTimeoutMs);
  };

  const unknown = async (channel: StasisChannel, args: string[], until: number): Promise<void> => {
    observer.observeGuardError('ari', AriErrorCode.unknownCommand);
    channel.log.warn({ command: args[0] ?? '' }, 'Stasis() with an unknown first argument: answering guard_error');
    await channel.answer(guardErrorVariables(), until, continueTimeoutMs);
  };

  return async (channel, args) => {
    const deadline = Date.now() + answerDeadlineMs;
    const until = deadline + deliveryGraceMs;
    const [command, ...rest] = args;
    try {
      if (command === 'authorize') await authorize(channel, rest, deadline, until);
      else if (command === 'settle') await settle(channel, rest, until);
      else await unknown(channel, args, until);
    } catch (err) {
      // Nothing above should throw; if it does, the channel must still leave Stasis.
      channel.log.error({ err }, 'Stasis handler failed');
      if (!channel.gone) {
        observer.observeGuardError('ari', 'DG_INTERNAL');
        await channel.answer(guardErrorVariables(), until, continueTimeoutMs);
      }
    }
  };
}

/** The promise's outcome if it settles within `ms`, else `late` (it keeps running). */
function by<T>(promise: Promise<T>, ms: number): Promise<Outcome<T>> {
  return new Promise<Outcome<T>>((resolve) => {
    const timer = setTimeout(() => resolve({ kind: 'late' }), Math.max(0, ms));
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve({ kind: 'done', value });
      },
      (error: unknown) => {
        clearTimeout(timer);
        resolve({ kind: 'failed', error });
      },
    );
  });
}
