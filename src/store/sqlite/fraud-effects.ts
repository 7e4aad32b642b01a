import type { Database } from 'better-sqlite3';
import type { FraudCounters, FraudQuery } from '../../domain/fraud.js';
import { RECENT_CALLS, type FraudEffects, type ListedCalls } from '../../fraud/effects.js';
import type { SettlementResult } from '../roles/decisions.js';
import type { AlertRepository } from './alerts.js';
import type { CircuitBreakerRepository } from './circuit-breaker.js';
import type { PolicyRepository } from './policies.js';
import type { LatestAttempt, RecordedAttempt, VelocityRepository } from './velocity.js';

export interface FraudEffectsDeps {
  policies: PolicyRepository;
  velocity: VelocityRepository;
  breaker: CircuitBreakerRepository;
  alerts: AlertRepository;
  nextId: (ms: number) => string;
}

/**
 * The fraud side of a decision in SQLite: the counters it reads and the effects
 * (src/fraud/effects.ts composes them) it writes, both in the decision's own transaction.
 */
export function createFraudEffects(db: Database, deps: FraudEffectsDeps) {
  const { policies, velocity, breaker, alerts, nextId } = deps;
  const recent = db.prepare<[string, number, number], { id: string; number: string }>(
    `SELECT id, coalesce(e164, dialled) AS number FROM decisions WHERE ext = ? AND at > ? ORDER BY at DESC, id DESC LIMIT ?`,
  );

  const listed = (ext: string, at: number, calls: ListedCalls): Array<{ id: string; number: string }> =>
    'only' in calls ? [calls.only] : recent.all(ext, at - calls.withinMs, RECENT_CALLS);

  return {
    /** `latest`: the extension's latest velocity attempt, when the caller knows it. */
    counters(ext: string, at: number, query: FraudQuery, latest?: LatestAttempt): FraudCounters {
      return { velocity: velocity.counts(ext, at, query, latest), breaker: query.breaker ? breaker.state(at) : null };
    },

    /** Call after the decision's audit row is written: alerts list it among the extension's recent calls. */
    apply(ext: string, at: number, effects: FraudEffects, latest?: LatestAttempt): RecordedAttempt {
      const recorded = effects.attempt ? velocity.record(ext, at, effects.attempt, latest) : { latest, pruned: [] };
      if (effects.internationalSpend) {
        // Reading the breaker is exact without this; dropping what left the hour keeps the table to an hour.
        breaker.expire(at);
        breaker.addSpend(effects.internationalSpend.callId, at, effects.internationalSpend.micros);
      }
      if (effects.lock) {
        policies.recordChange(effects.lock.actor, `lock:${ext}`, policies.getLock(ext), { reason: effects.lock.reason });
        policies.putLock(ext, effects.lock.reason, effects.lock.actor);
      }
      for (const draft of effects.alerts) {
        alerts.raise(nextId(at), draft, () => {
          const calls = listed(ext, at, draft.calls);
          return { ...draft.details, numbers: calls.map((c) => c.number), decisionIds: calls.map((c) => c.id) };
        });
      }
      if (effects.openBreaker) breaker.open(at, effects.openBreaker);
      return recorded;
    },

    /** Settlement of a call: its real cost replaces its reservation in the breaker's hour. */
    settled(result: SettlementResult): void {
      if (result.outcome === 'settled' || result.outcome === 'settled_after_expiry') breaker.settle(result.callId, result.costMicros);
    },
  };
}

export type FraudEffectsRepository = ReturnType<typeof createFraudEffects>;
