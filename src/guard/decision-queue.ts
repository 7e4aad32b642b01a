import type { DecisionRequest } from '../domain/decision.js';
import type { AuditedDecision, AuthorizeOutcome } from '../store/roles/decisions.js';
import type { Guard } from './guard.js';

/** What a transport asks for a decision. */
export interface DecisionQueue {
  authorize(request: DecisionRequest): Promise<AuditedDecision>;
}

export interface GroupCommitQueue extends DecisionQueue {
  /**
   * A session has started that may ask for a decision any moment (its environment is arriving).
   * Until the returned function is called (the environment is complete, or the session ended),
   * a batch waits for it, up to `maxWaitMs`. Calling it again does nothing.
   */
  expect(): () => void;
}

export interface DecisionQueueOptions {
  /** Decisions in one transaction at most. */
  maxBatch?: number;
  /** How long a decision may wait for the sessions expected to join its batch. */
  maxWaitMs?: number;
}

export const DEFAULT_MAX_BATCH = 64;
/**
 * About the time Asterisk takes to write an environment after connecting (1-3 ms on loopback,
 * agi-notes.md), so that the sessions that connected with a decision in flight can join it: at
 * 16 calls in flight 3 ms formed batches of up to 16 and a third more sessions/s than not
 * waiting (1 ms: batches of about 3, a tenth more), with no cost to p99 at 200 calls/s
 * (scripts/bench). It also bounds what a peer that stalls in
 * its environment costs the calls beside it.
 */
export const DEFAULT_MAX_WAIT_MS = 3;

/**
 * Group commit for the transports: authorizations are decided in one transaction, in arrival
 * order, each seeing the reservations of the ones before it. A commit costs a decision about as
 * much again as the decision itself (BEGIN, COMMIT, each dirty page written to the WAL), and
 * sessions reach their decision one at a time, so waiting only for the next setImmediate forms
 * batches of one. A batch therefore also waits, up to `maxWaitMs`, for the sessions whose
 * environment is arriving: under load they join it; a lone call, with none arriving, goes at the
 * next setImmediate as before.
 */
export function createDecisionQueue(guard: Pick<Guard, 'authorizeBatch'>, options: DecisionQueueOptions = {}): GroupCommitQueue {
  const maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
  const maxWaitMs = options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
  interface Waiting {
    request: DecisionRequest;
    startedAt: bigint;
    resolve: (decision: AuditedDecision) => void;
    reject: (error: unknown) => void;
  }
  let waiting: Waiting[] = [];
  let expected = 0;
  let scheduled = false;
  let holdTimer: NodeJS.Timeout | undefined;

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
    clearTimeout(holdTimer);
    holdTimer = undefined;
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

  // Runs after the I/O of the loop's turn: the decisions asked for in it are all waiting by then.
  const check = (): void => {
    scheduled = false;
    if (waiting.length === 0) return;
    if (expected === 0 || waiting.length >= maxBatch) return flush();
    holdTimer ??= setTimeout(flush, maxWaitMs);
  };
  const schedule = (): void => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(check);
  };

  return {
    authorize(request) {
      return new Promise<AuditedDecision>((resolve, reject) => {
        waiting.push({ request, startedAt: process.hrtime.bigint(), resolve, reject });
        schedule();
      });
    },
    expect() {
      expected++;
      let arrived = false;
      return () => {
        if (arrived) return;
        arrived = true;
        expected--;
        if (expected === 0 && waiting.length > 0) schedule();
      };
    },
  };
}
