import type { Logger } from 'pino';
import { SETTLEMENT_TOLERANCE_SECONDS } from '../bounds.js';
import type { SettlementResult } from '../store/roles/decisions.js';
import type { GuardObserver } from './observer.js';
import type { ReportedSettlement } from './settlement-args.js';

/**
 * What every transport does once a settlement from the dialplan is stored: count it, write the
 * settlement log line, and warn when what Asterisk reported could not be taken as it was.
 */
export function reportSettlement(
  observer: GuardObserver,
  logger: Logger,
  { request, problem }: ReportedSettlement,
  result: SettlementResult,
  fields: Record<string, string> = {},
): void {
  observer.observeSettlement(result.outcome);
  const level = result.outcome === 'settled' || result.outcome === 'settled_after_expiry' ? 'info' : 'warn';
  logger[level]({ ...result, ...fields, dialStatus: request.dialStatus }, 'settlement');
  const { callId, reported } = request;
  if (problem !== null) logger.warn({ callId, ...fields, reported }, `ANSWEREDTIME is ${problem}: settled as 0 s`);
  if (result.clamped) {
    logger.warn(
      { callId, ...fields, reported, limitSeconds: result.limitSeconds, settledSeconds: result.answeredSeconds, toleranceSeconds: SETTLEMENT_TOLERANCE_SECONDS },
      'ANSWEREDTIME longer than the granted limit: settlement clamped',
    );
  }
}
