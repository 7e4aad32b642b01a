import type { Database } from 'better-sqlite3';
import type { DecisionRequest } from '../../domain/decision.js';
import type { FraudFinding, FraudQuery, FraudCounters, FraudSignals } from '../../domain/fraud.js';
import { fromMicros } from '../../rates/rate-table.js';
import type { AlertDetails, AuditedDecision, SettlementResult } from '../store.js';
import type { AlertRepository, NewAlert } from './alerts.js';
import type { CircuitBreakerRepository } from './circuit-breaker.js';
import type { PolicyRepository } from './policies.js';
import type { VelocityRepository } from './velocity.js';

/** Numbers and decision ids an alert lists at most. */
const RECENT_LIMIT = 20;
/** Who locks an extension or opens the breaker in the policy history. */
export const FRAUD_ACTOR = 'dialguard';

export interface FraudEffectsDeps {
  policies: PolicyRepository;
  velocity: VelocityRepository;
  breaker: CircuitBreakerRepository;
  alerts: AlertRepository;
  nextId: (ms: number) => string;
}

/**
 * What the fraud checks decided, applied in the decision's own transaction: the velocity
 * counters, the lock, the circuit breaker and the alert rows. Webhooks are sent later, from the
 * alert rows, so that no call waits for them.
 */
export function createFraudEffects(db: Database, deps: FraudEffectsDeps) {
  const { policies, velocity, breaker, alerts, nextId } = deps;
  const recent = db.prepare<[string, number, number], { id: string; number: string }>(
    `SELECT id, coalesce(e164, dialled) AS number FROM decisions WHERE ext = ? AND at > ? ORDER BY at DESC, id DESC LIMIT ?`,
  );

  const details = (fraud: FraudSignals, finding: FraudFinding | null, calls: Array<{ id: string; number: string }>, locked: boolean): AlertDetails => {
    const spend = finding?.counter === 'internationalSpendPerHour';
    const amount = (n: number): number => (spend ? fromMicros(n) : n);
    return {
      count: finding ? amount(finding.count) : null,
      limit: finding ? amount(finding.limit) : null,
      windowSeconds: finding ? finding.windowMs / 1000 : null,
      country: finding?.country ?? null,
      counts: fraud.counts,
      thresholds: fraud.thresholds,
      numbers: calls.map((c) => c.number),
      decisionIds: calls.map((c) => c.id),
      locked,
    };
  };

  return {
    counters(ext: string, at: number, query: FraudQuery): FraudCounters {
      return { velocity: velocity.counts(ext, at, query), breaker: query.breaker ? breaker.state(at) : null };
    },

    /** Call after the decision's audit row is written: alerts list it among the extension's recent calls. */
    apply(request: DecisionRequest, decision: AuditedDecision): void {
      const { fraud } = decision;
      if (!fraud) return;
      const at = request.at.getTime();
      const ext = request.extension;
      const shadow = fraud.mode === 'shadow';
      if (fraud.attempt) velocity.record(ext, at, fraud.attempt);
      if (decision.result === 'ALLOW' && decision.grant && decision.e164 && fraud.international) {
        // Reading the breaker is exact without this; dropping what left the hour keeps the table to an hour.
        breaker.expire(at);
        breaker.addSpend(decision.callId, at, decision.grant.costMicros);
      }

      const thisCall = [{ id: decision.callId, number: decision.e164 ?? request.dialled }];
      const callsWithin = (windowMs: number) => recent.all(ext, at - windowMs, RECENT_LIMIT);
      const raise = (alert: Omit<NewAlert, 'id' | 'at' | 'ext' | 'shadow' | 'decisionId'>): void => {
        alerts.raise({ ...alert, id: nextId(at), at, ext, shadow, decisionId: decision.callId });
      };

      for (const finding of fraud.findings) {
        const breakerFinding = finding.check === 'circuit_breaker';
        const kind = breakerFinding ? 'circuit_breaker' : finding.level === 'breach' ? 'breach' : 'warn';
        const calls = () => (finding.counter === 'newCountry' || breakerFinding ? thisCall : callsWithin(finding.windowMs));
        const what = breakerFinding ? `Circuit breaker, call from extension ${ext}` : `Extension ${ext}`;
        raise({
          kind,
          severity: finding.level === 'breach' ? 'error' : 'warn',
          check: finding.check,
          counter: finding.counter,
          message: `${shadow ? '[shadow mode, nothing enforced] ' : ''}${what}: ${finding.detail}`,
          details: () => details(fraud, finding, calls(), fraud.lock !== null),
          // A real trip happens once until an admin resets it; anything else repeats while its window lasts.
          dedupKey: breakerFinding && fraud.tripBreaker ? null : [kind, shadow ? 'shadow' : '', ext, finding.counter, finding.country ?? ''].join(':'),
          dedupWindowMs: finding.windowMs,
        });
      }

      if (fraud.lock) {
        const reason = `${fraud.lock} (call ${decision.callId})`;
        policies.recordChange(FRAUD_ACTOR, `lock:${ext}`, policies.getLock(ext), { reason });
        policies.putLock(ext, reason, FRAUD_ACTOR);
        const breach = fraud.findings.find((f) => f.level === 'breach' && f.check !== 'circuit_breaker') ?? null;
        raise({
          kind: 'lock',
          severity: 'error',
          check: breach?.check ?? null,
          counter: breach?.counter ?? null,
          message: `Extension ${ext} locked until an admin unlocks it: ${fraud.lock}`,
          details: () => details(fraud, breach, callsWithin(breach?.windowMs ?? 0), true),
          dedupKey: null,
          dedupWindowMs: 0,
        });
      }
      if (fraud.tripBreaker) breaker.open(at, { ext, callId: decision.callId });
    },

    /** Settlement of a call: its real cost replaces its reservation in the breaker's hour. */
    settled(result: SettlementResult): void {
      if (result.outcome === 'settled' || result.outcome === 'settled_after_expiry') breaker.settle(result.callId, result.costMicros);
    },
  };
}

export type FraudEffects = ReturnType<typeof createFraudEffects>;
