import type { FraudEffects, ListedCalls } from '../../fraud/effects.js';
import { RECENT_CALLS } from '../../fraud/effects.js';
import { alerts } from './alerts.js';
import { audit } from './audit.js';
import { breaker } from './circuit-breaker.js';
import type { Db, Defer } from './connection.js';
import { policies } from './policies.js';
import { velocity } from './velocity.js';

/** What one decision's transaction holds beyond its extensions' locks. */
export interface DecisionLocks {
  /** The breaker's row: taken before the spend, the policy version or a lock is changed. */
  breaker: boolean;
}

/** Takes the breaker's row lock unless this transaction holds it: first the breaker, then the policy version. */
export function takeBreaker(db: Db, held: DecisionLocks): Promise<unknown> {
  if (held.breaker) return Promise.resolve();
  held.breaker = true;
  return breaker.take(db);
}

const listed = (db: Db, ext: string, at: number, calls: ListedCalls): Promise<Array<{ id: string; number: string }>> =>
  'only' in calls ? Promise.resolve([calls.only]) : audit.recent(db, ext, at - calls.withinMs, RECENT_CALLS);

/**
 * The fraud effects of one decision (src/fraud/effects.ts composes them), applied in its
 * transaction in their order, after its audit row: alerts list it among the extension's calls.
 * Statements go out in that order on the one connection; only an alert waits for answers
 * (whether it recurs, which calls it lists).
 */
export async function applyFraudEffects(db: Db, defer: Defer, held: DecisionLocks, ext: string, at: number, effects: FraudEffects, nextId: (ms: number) => string): Promise<void> {
  if (effects.attempt) velocity.record(db, ext, at, effects.attempt).forEach(defer);
  if (effects.internationalSpend || effects.lock || effects.openBreaker) defer(takeBreaker(db, held));
  if (effects.internationalSpend) defer(breaker.addSpend(db, effects.internationalSpend.callId, at, effects.internationalSpend.micros));
  if (effects.lock) defer(policies.putLock(db, ext, effects.lock.reason, effects.lock.actor));
  for (const draft of effects.alerts) {
    await alerts.raise(db, nextId(at), draft, async () => {
      const calls = await listed(db, ext, at, draft.calls);
      return { ...draft.details, numbers: calls.map((c) => c.number), decisionIds: calls.map((c) => c.id) };
    });
  }
  if (effects.openBreaker) defer(breaker.open(db, at, effects.openBreaker));
}
