import type { AlertDetails, AlertKind, AlertSeverity } from '../domain/alert.js';
import type { Decision, DecisionRequest } from '../domain/decision.js';
import type { AttemptRecord, FraudFinding, FraudSignals } from '../domain/fraud.js';
import { fromMicros } from '../rates/rate-table.js';

/** Numbers and decision ids an alert lists at most. */
export const RECENT_CALLS = 20;
/** Who locks an extension or opens the breaker in the policy history. */
export const FRAUD_ACTOR = 'dialguard';

/** Which calls an alert lists (its details' `numbers` and `decisionIds`, newest first). */
export type ListedCalls =
  /** The extension's decisions of the last `withinMs` before the alert, this one included, at most RECENT_CALLS. */
  | { withinMs: number }
  /** This call alone. */
  | { only: { id: string; number: string } };

/** An alert as composed; the store gives it an id, or counts it as one more occurrence of the same one. */
export interface AlertDraft {
  at: number;
  kind: AlertKind;
  severity: AlertSeverity;
  ext: string;
  check: string | null;
  counter: string | null;
  message: string;
  shadow: boolean;
  /** The decision that raised it; null for an alert raised outside a decision (an account taken over). */
  decisionId: string | null;
  /** Alerts with the same key within `dedupWindowMs` are one alert whose occurrences grow; null: never merged. */
  dedupKey: string | null;
  dedupWindowMs: number;
  /** Everything but the calls, which the store reads from its audit when the alert is new. */
  details: Omit<AlertDetails, 'numbers' | 'decisionIds'>;
  calls: ListedCalls;
}

/**
 * What one decision changes beyond its reservation and audit row, for the store to apply in
 * the decision's transaction, in this order: the velocity attempt, the international spend,
 * the lock, the alerts (in order), the breaker. Webhooks are sent later, from the alert rows,
 * so that no call waits for them.
 */
export interface FraudEffects {
  /** How the attempt counts in the velocity counters; null: it does not. */
  attempt: AttemptRecord | null;
  /** What the call reserves abroad, for the breaker's sliding hour of international spend. */
  internationalSpend: { callId: string; micros: number } | null;
  /** Lock the extension with this reason, recorded in the policy history (`lock:EXT`) by `actor`. */
  lock: { reason: string; actor: string } | null;
  alerts: AlertDraft[];
  /** Open the site circuit breaker, naming the call that opened it. */
  openBreaker: { ext: string; callId: string } | null;
}

function details(fraud: FraudSignals, finding: FraudFinding | null, locked: boolean): AlertDraft['details'] {
  const spend = finding?.counter === 'internationalSpendPerHour';
  const amount = (n: number): number => (spend ? fromMicros(n) : n);
  return {
    count: finding ? amount(finding.count) : null,
    limit: finding ? amount(finding.limit) : null,
    windowSeconds: finding ? finding.windowMs / 1000 : null,
    country: finding?.country ?? null,
    counts: fraud.counts,
    thresholds: fraud.thresholds,
    locked,
  };
}

/**
 * Findings with the same key within their window are one alert. A finding about a number (the
 * spread of a destination across extensions) is one alert per number, whichever extension dials
 * it next; any other is the extension's.
 */
function dedupKey(kind: AlertKind, shadow: boolean, ext: string, finding: FraudFinding): string {
  const subject = finding.destination === undefined ? [ext, finding.counter, finding.country ?? ''] : ['number', finding.destination];
  return [kind, shadow ? 'shadow' : '', ...subject].join(':');
}

/**
 * The fraud effects of a decision whose id is `callId`: what the fraud checks found (the
 * decision's `fraud` signals) turned into counter updates, alerts with their kind, severity,
 * message and dedup key, a lock and its reason, and the breaker. Null when the decision
 * carries no fraud signals. Pure: every store applies the same effects.
 */
export function composeFraudEffects(request: DecisionRequest, decision: Decision, callId: string): FraudEffects | null {
  const { fraud } = decision;
  if (!fraud) return null;
  const at = request.at.getTime();
  const ext = request.extension;
  const shadow = fraud.mode === 'shadow';
  const thisCall: ListedCalls = { only: { id: callId, number: decision.e164 ?? request.dialled } };
  const alert = (draft: Omit<AlertDraft, 'at' | 'ext' | 'shadow' | 'decisionId'>): AlertDraft => ({ ...draft, at, ext, shadow, decisionId: callId });

  const alerts = fraud.findings.map((finding) => {
    const breakerFinding = finding.check === 'circuit_breaker';
    const kind: AlertKind = breakerFinding ? 'circuit_breaker' : finding.level === 'breach' ? 'breach' : 'warn';
    const what = breakerFinding ? `Circuit breaker, call from extension ${ext}` : `Extension ${ext}`;
    return alert({
      kind,
      severity: finding.level === 'breach' ? 'error' : 'warn',
      check: finding.check,
      counter: finding.counter,
      message: `${shadow ? '[shadow mode, nothing enforced] ' : ''}${what}: ${finding.detail}`,
      // A real trip happens once until an admin resets it; anything else repeats while its window lasts.
      dedupKey: breakerFinding && fraud.tripBreaker ? null : dedupKey(kind, shadow, ext, finding),
      dedupWindowMs: finding.windowMs,
      details: details(fraud, finding, fraud.lock !== null),
      calls: finding.counter === 'newCountry' || finding.destination !== undefined || breakerFinding ? thisCall : { withinMs: finding.windowMs },
    });
  });

  let lock: FraudEffects['lock'] = null;
  if (fraud.lock) {
    lock = { reason: `${fraud.lock} (call ${callId})`, actor: FRAUD_ACTOR };
    const breach = fraud.findings.find((f) => f.level === 'breach' && f.check !== 'circuit_breaker') ?? null;
    alerts.push(
      alert({
        kind: 'lock',
        severity: 'error',
        check: breach?.check ?? null,
        counter: breach?.counter ?? null,
        message: `Extension ${ext} locked until an admin unlocks it: ${fraud.lock}`,
        dedupKey: null,
        dedupWindowMs: 0,
        details: details(fraud, breach, true),
        calls: { withinMs: breach?.windowMs ?? 0 },
      }),
    );
  }

  const placedAbroad = decision.result === 'ALLOW' && decision.grant !== null && decision.e164 !== null && fraud.international;
  return {
    attempt: fraud.attempt,
    internationalSpend: placedAbroad && decision.grant ? { callId, micros: decision.grant.costMicros } : null,
    lock,
    alerts,
    openBreaker: fraud.tripBreaker ? { ext, callId } : null,
  };
}
