import type { CircuitBreakerState, UsageSnapshot } from '../domain/usage.js';
import type { Decision, DecisionRequest } from '../domain/decision.js';
import type { FraudCounters, FraudQuery } from '../domain/fraud.js';
import type { PolicyDocument } from '../policy/document.js';
import type { PolicyOverrides } from '../policy/schema.js';

import type { AlertDelivery, AlertFilter, AlertPage, AlertRecord } from './roles/alerts.js';
import type { DecisionFilter, DecisionPage, DecisionRecord, SettlementRecord } from './roles/audit.js';
import type { CircuitBreakerRecord } from './roles/circuit-breaker.js';
import type { AuditedDecision, AuthorizeOutcome, SettlementRequest, SettlementResult } from './roles/decisions.js';
import type { ExtensionLock, LockRecord } from './roles/locks.js';
import type { ExtensionRecord, HistoryPage, ImportSummary, PolicyChange, PolicySettingKey, PolicySettings, StoredPolicySet, StoredSetting } from './roles/policies.js';
import type { NewToken, TokenRecord } from './roles/tokens.js';
import type { ReservationRecord } from './roles/usage.js';

export type * from './roles/alerts.js';
export type * from './roles/audit.js';
export type * from './roles/circuit-breaker.js';
export type { AuditedDecision, AuthorizeOutcome, SettlementOutcome, SettlementRequest, SettlementResult } from './roles/decisions.js';
export type * from './roles/locks.js';
export type * from './roles/policies.js';
export type * from './roles/tokens.js';
export type * from './roles/usage.js';
export type { AlertDetails, AlertKind, AlertSeverity } from '../domain/alert.js';

/**
 * Being replaced by the roles in ./roles (async); kept until every caller uses them.
 *
 * The narrow boundary between dialguard and its database (after @fastify/rate-limit's store
 * interface): policy, rates, reservations and audit. SQLite is the embedded implementation;
 * a server database can implement the same interface for several guards sharing budgets.
 *
 * `authorize` runs `decide` inside the one transaction that reads usage and writes the
 * reservation and the audit row, so concurrent guards can never spend past a budget. The
 * callback is synchronous: the decision engine does no I/O.
 */
export interface Store {
  readonly location: string;

  policyVersion(): number;
  loadPolicySet(): StoredPolicySet;
  getExtension(ext: string): ExtensionRecord | null;
  listExtensions(): ExtensionRecord[];
  /** Replaces every section the document has, in one transaction; validation is the caller's. */
  importDocument(doc: PolicyDocument, actor: string): ImportSummary;
  lock(ext: string, reason: string, actor: string): void;
  unlock(ext: string, actor: string): boolean;

  authorize(request: DecisionRequest, decide: (tx: AuthorizeTx) => Verdict): AuditedDecision;
  /**
   * Group commit: several authorizations in one transaction, in order, each seeing the ones
   * before it; an item that throws fails alone. Throws only if the transaction itself fails.
   */
  authorizeBatch(items: ReadonlyArray<AuthorizeItem>): AuthorizeOutcome[];
  /** The same evaluation with nothing reserved or recorded: dry runs. */
  evaluate(request: DecisionRequest, decide: (tx: AuthorizeTx) => Verdict): Decision;
  settle(settlement: SettlementRequest): SettlementResult;
  getDecision(callId: string): DecisionRecord | null;
  getReservation(callId: string): ReservationRecord | null;
  usage(ext: string, at: Date, timezone: string): UsageSnapshot;

  /** Stops background work and closes the database; the store is unusable after. */
  close(): Promise<void>;

  // Admin API. Every update runs its callback inside one write transaction: the callback reads
  // the current value (and may read anything else from this store, consistently), returns the
  // new one, or throws to change nothing.

  /** Replaces an extension's overrides with what `update` returns; null deletes the entry. */
  updateExtension(ext: string, actor: string, update: (current: ExtensionRecord | null) => PolicyOverrides | null): ExtensionRecord | null;
  readSetting<K extends PolicySettingKey>(key: K): StoredSetting<PolicySettings[K]>;
  updateSetting<K extends PolicySettingKey>(
    key: K,
    actor: string,
    update: (current: StoredSetting<PolicySettings[K]>) => PolicySettings[K],
  ): StoredSetting<PolicySettings[K]>;
  getLock(ext: string): LockRecord | null;
  listLocks(): ExtensionLock[];
  /** Changes of the given subjects (`defaults`, `extension:1001`, `lock:1001`…), newest first. */
  policyHistory(subjects: string[], page: HistoryPage): PolicyChange[];

  /** Newest first: by time, then by id (ULIDs, so ties keep their order of creation). */
  listDecisions(filter: DecisionFilter, page: DecisionPage): DecisionRecord[];
  /** Every matching decision, newest first, read a batch at a time: constant memory, and the database stays free between batches. */
  exportDecisions(filter: DecisionFilter): Iterable<DecisionRecord>;
  listSettlements(callId: string): SettlementRecord[];
  /** Reservations still holding a slot at `at`, oldest first. */
  activeReservations(at: Date, ext?: string): ReservationRecord[];
  countActiveReservations(at: Date): number;
  /** Throws unless a write transaction can be started now: the readiness probe. */
  checkWritable(): void;

  /** Live (unrevoked) tokens. */
  listTokens(): TokenRecord[];
  /** False when a live token already has this name. */
  createToken(token: NewToken): boolean;
  /** Revokes the live token of this name, if any, and creates this one, in one transaction. */
  replaceToken(token: NewToken): void;
  revokeToken(name: string, actor: string): boolean;

  // Fraud detection: alerts (raised in the decision's transaction) and the site circuit breaker.

  /** Newest first. */
  listAlerts(filter: AlertFilter, page: AlertPage): AlertRecord[];
  getAlert(id: string): AlertRecord | null;
  /** Null when there is no such alert; acknowledging twice keeps the first acknowledgement. */
  acknowledgeAlert(id: string, actor: string, at: Date): AlertRecord | null;
  /**
   * Alerts whose webhook delivery is due, each claimed for `leaseMs` (another guard process on
   * the same database skips it meanwhile); a claim that is never recorded is retried after it.
   */
  claimDueAlerts(now: Date, limit: number, leaseMs: number): AlertRecord[];
  recordAlertDelivery(id: string, update: AlertDelivery): void;
  /** When the next pending delivery is due (epoch ms), null if none is pending. */
  nextAlertDelivery(): number | null;
  circuitBreaker(at: Date): CircuitBreakerRecord;
  setCircuitBreakerLimit(limitMicros: number | null, actor: string, at: Date): CircuitBreakerRecord;
  /** Closes the breaker and starts counting international spend afresh. */
  resetCircuitBreaker(actor: string, at: Date): CircuitBreakerRecord;
}

export interface AuthorizeTx {
  version: number;
  extension: ExtensionRecord | null;
  lock: LockRecord | null;
  loadPolicySet(): StoredPolicySet;
  usage(timezone: string): UsageSnapshot;
  /** The velocity counters and the circuit breaker, as of the request's time. */
  fraudCounters(query: FraudQuery): FraudCounters;
}

export interface AuthorizeItem {
  request: DecisionRequest;
  decide: (tx: AuthorizeTx) => Verdict;
}

export interface Verdict {
  decision: Decision;
  /** Time from the request's arrival to the decision, recorded in the audit. */
  latencyUs: number;
  /** Timezone of the budget periods the reservation is charged to. */
  timezone: string;
}
