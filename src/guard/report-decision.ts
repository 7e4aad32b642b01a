import type { Logger } from 'pino';
import type { DecisionRequest } from '../domain/decision.js';
import type { AuditedDecision } from '../store/roles/decisions.js';
import type { GuardObserver } from './observer.js';

/** Seconds from `started` (process.hrtime.bigint()) to now: a decision's latency, taken when it is stored. */
export function secondsSince(started: bigint): number {
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/**
 * What every transport does once a decision is stored: count it in the metrics and write the
 * one structured log line per decision (ids, extension, destination, result, latency; no secrets).
 * `latencySeconds` is taken when the decision was stored, so a transport may report it after
 * answering the channel.
 */
export function reportDecision(
  observer: GuardObserver,
  logger: Logger,
  decision: AuditedDecision,
  request: DecisionRequest,
  latencySeconds: number,
  fields: Record<string, string> = {},
): void {
  observer.observeDecision(decision, request.transport, latencySeconds);
  logger.info(
    {
      callId: decision.callId,
      ...fields,
      extension: request.extension,
      e164: decision.e164,
      country: decision.country,
      result: decision.result,
      reason: decision.reason,
      limitMs: decision.limitMs,
      latencyMs: Math.round(latencySeconds * 1e4) / 10,
    },
    'decision',
  );
}
