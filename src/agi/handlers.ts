import type { Logger } from 'pino';
import type { DecisionRequest } from '../domain/decision.js';
import { DialguardError } from '../errors.js';
import { requestFromArgs } from '../guard/authorize-args.js';
import { reportDecision, secondsSince } from '../guard/report-decision.js';
import { reportSettlement } from '../guard/report-settlement.js';
import { decisionVariables, guardErrorVariables, type ChannelVariables } from '../guard/channel-variables.js';
import type { DecisionQueue } from '../guard/decision-queue.js';
import type { Guard } from '../guard/guard.js';
import type { GuardObserver } from '../guard/observer.js';
import { settlementFromArgs } from '../guard/settlement-args.js';
import type { AgiFallback, AgiHandler } from './server.js';
import type { AgiEnvironment } from './protocol.js';
import type { AgiSession } from './session.js';

export interface AgiHandlerDeps {
  guard: Pick<Guard, 'settle'>;
  /** Group commit of authorizations; see guard/decision-queue.ts. */
  decisions: DecisionQueue;
  logger: Logger;
  observer: GuardObserver;
  now?: () => Date;
}

/** `agi://…/authorize,EXT,NUMBER,SOURCE,ORIGIN`. */
export function requestFromEnvironment(env: AgiEnvironment, at: Date): DecisionRequest {
  const { channel, uniqueid, context, callerid, calleridname } = env;
  return requestFromArgs(env.args, { channel, uniqueid, context, callerid, calleridname }, 'agi', at);
}

/** One command at a time, each awaiting its reply: Asterisk does not read pipelined commands. */
async function setAll(session: AgiSession, variables: ChannelVariables): Promise<void> {
  for (const [name, value] of variables) await session.setVariable(name, value);
}

export function createAuthorizeHandler({ guard, decisions, logger, observer, now = () => new Date() }: AgiHandlerDeps): AgiHandler {
  return async (session, deadline) => {
    const started = process.hrtime.bigint();
    const request = requestFromEnvironment(session.env, now());
    // A store that stays locked past its busy timeout rejects here; the server's fallback answers guard_error.
    const decision = await decisions.authorize(request);
    const latencySeconds = secondsSince(started);
    const late = deadline.passed;
    // The log line and the metrics wait for the session's end: the call's answer, which ends with
    // our FIN, does not wait for them (a tenth of a millisecond of each session at 200 calls/s,
    // scripts/bench). The server always ends a session, destroying it if Asterisk does not close.
    const report = (): void => {
      reportDecision(observer, logger, decision, request, latencySeconds, { channel: session.env.channel, uniqueid: session.env.uniqueid });
      if (late) logger.warn({ callId: decision.callId }, 'decision made after the answer deadline');
    };
    if (session.closed) report();
    else session.once('close', report);
    // No VERBOSE of a DENY: every shipped dialplan logs the denial with its reason and message
    // itself, and under an attack, when most calls are denied, it would be a round trip more each.
    await setAll(session, decisionVariables(decision, decision.callId));
    if (decision.grant && session.hungUp) {
      // The caller hung up while we decided: AGI() returns HANGUP, the dialplan never dials nor
      // pushes the settlement handler, so the reservation would hold its slot until it expires.
      const released = await guard.settle({ callId: decision.callId, answeredSeconds: 0, dialStatus: 'CANCEL', at: now() });
      observer.observeSettlement(released.outcome);
      logger.info({ callId: decision.callId, channel: session.env.channel }, 'caller hung up during the decision: reservation released');
    }
  };
}

export function createSettleHandler({ guard, logger, observer, now = () => new Date() }: AgiHandlerDeps): AgiHandler {
  return async (session) => {
    const [callId = '', answered = '', status = ''] = session.env.args;
    const settlement = settlementFromArgs(callId, answered, status, now());
    const result = await guard.settle(settlement.request);
    reportSettlement(observer, logger, settlement, result, { channel: session.env.channel, uniqueid: session.env.uniqueid });
    // Works on the dead channel of a hangup handler: SET VARIABLE is allowed there.
    await session.setVariable('DIALGUARD_SETTLED', `${result.outcome} ${result.callId}`);
  };
}

/**
 * Unknown path, a handler that threw, a store that was locked: the channel still gets an
 * answer, a DENY with guard_error, so the fail-closed dialplan refuses the call at once.
 */
export function createGuardErrorFallback({ logger, observer }: Pick<AgiHandlerDeps, 'logger' | 'observer'>): AgiFallback {
  return async (session, _signal, cause) => {
    const code = cause instanceof DialguardError ? cause.code : 'DG_INTERNAL';
    logger.error({ code, channel: session.env.channel, uniqueid: session.env.uniqueid, path: session.env.path }, 'answering guard_error');
    if (session.env.path === 'settle') {
      observer.observeError(code);
      return;
    }
    observer.observeGuardError('agi', code);
    await setAll(session, guardErrorVariables());
    await session.verbose(`dialguard: DENY guard_error (${code})`);
  };
}
