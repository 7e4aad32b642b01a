import type { DecisionRequest } from '../domain/decision.js';
import type { AuditedDecision, AuthorizeOutcome } from '../store/roles/decisions.js';
import type { Guard } from './guard.js';

export interface DecisionQueue {
  authorize(request: DecisionRequest): Promise<AuditedDecision>;
}

export const DEFAULT_MAX_BATCH = 64;

/**
 * Group commit for the transports: authorizations that arrive in the same turn of the event
 * loop are decided in one transaction, in arrival order, each seeing the reservations of the
 * ones before it. A lone call waits only for the next setImmediate; under load one commit
 * serves many decisions.
 */
export function createDecisionQueue(guard: Pick<Guard, 'authorizeBatch'>, maxBatch = DEFAULT_MAX_BATCH): DecisionQueue {
  interface Waiting {
    request: DecisionRequest;
    startedAt: bigint;
    resolve: (decision: AuditedDecision) => void;
    reject: (error: unknown) => void;
  }
  let waiting: Waiting[] = [];
  let scheduled = false;

  const settle = (batch: Waiting[], outcomes: AuthorizeOutcome[]): void => {
    outcomes.forEach((outcome, j) => {
      const w = batch[j] as Waiting;
      if (outcome.ok) w.resolve(outcome.decision);
      else w.reject(outcome.error);
    });
  };
  // The transaction itself failed (the database stayed locked or went away): every call in it gets guard_error.
  const fail = (batch: Waiting[], error: unknown): void => {
    for (const w of batch) w.reject(error);
  };

  const flush = (): void => {
    scheduled = false;
    const all = waiting;
    waiting = [];
    // Batches are handed to the store at once, in order: a store that can run them side by side
    // (a server database's pool) may; SQLite runs each as it is given.
    for (let i = 0; i < all.length; i += maxBatch) {
      const batch = all.slice(i, i + maxBatch);
      guard.authorizeBatch(batch).then(
        (outcomes) => settle(batch, outcomes),
        (error: unknown) => fail(batch, error),
      );
    }
  };

  return {
    authorize(request) {
      return new Promise<AuditedDecision>((resolve, reject) => {
        waiting.push({ request, startedAt: process.hrtime.bigint(), resolve, reject });
        if (!scheduled) {
          scheduled = true;
          setImmediate(flush);
        }
      });
    },
  };
}
