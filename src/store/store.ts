import type { CircuitBreakerState, Decision, DecisionRequest, FraudCounters, FraudQuery, UsageSnapshot } from '../engine/types.js';
import type { HighRiskList } from '../numbers/high-risk.js';
import type { PolicyDocument } from '../policy/document.js';
import type { PolicyOverrides } from '../policy/schema.js';
import type { Rate } from '../rates/rate-table.js';

/**
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
  /** Throws unless a write commits now (disk full, read-only, locked: it throws): the readiness probe. */
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

export interface ExtensionRecord {
  ext: string;
  overrides: PolicyOverrides;
  version: number;
  updatedAt: number;
}

export interface LockRecord {
  reason: string;
  actor: string;
  at: number;
}

export interface SiteSettings {
  denyUnknownExtensions: boolean;
}

/**
 * Everything policy-like that is not per extension, as stored: null where the site never set
 * it, so that the built-in value (which depends on the home country) applies.
 */
export interface StoredPolicySet {
  version: number;
  defaults: PolicyOverrides;
  rates: Rate[] | null;
  highRisk: HighRiskList | null;
  blockedPrefixes: string[];
  site: SiteSettings;
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

export type AuthorizeOutcome = { ok: true; decision: AuditedDecision } | { ok: false; error: unknown };

export interface Verdict {
  decision: Decision;
  /** Time from the request's arrival to the decision, recorded in the audit. */
  latencyUs: number;
  /** Timezone of the budget periods the reservation is charged to. */
  timezone: string;
}

export interface AuditedDecision extends Decision {
  callId: string;
}

export interface SettlementRequest {
  callId: string;
  /** Whole seconds, not negative; more than the granted limit plus the tolerance is clamped to it (Infinity too). */
  answeredSeconds: number;
  dialStatus: string;
  at: Date;
  /** ANSWEREDTIME as the dialplan reported it; recorded with the settlement (default: answeredSeconds as text). */
  reported?: string;
}

export type SettlementOutcome = 'settled' | 'settled_after_expiry' | 'duplicate' | 'unknown' | 'no_reservation';

export interface SettlementResult {
  outcome: SettlementOutcome;
  callId: string;
  ext: string | null;
  costMicros: number;
  reservedMicros: number;
  /** The seconds settled: those reported, or the limit plus the tolerance when clamped. */
  answeredSeconds: number;
  /** The granted limit (the reservation's seconds; the largest any call can get for an unknown call id). */
  limitSeconds: number;
  clamped: boolean;
}

export interface ReservationRecord {
  callId: string;
  ext: string;
  e164: string;
  status: 'active' | 'settled' | 'expired';
  reservedSeconds: number;
  reservedMicros: number;
  createdAt: number;
  expiresAt: number;
  answeredSeconds: number | null;
  dialStatus: string | null;
  costMicros: number | null;
}

export interface DecisionRecord extends Omit<AuditedDecision, 'grant'> {
  at: number;
  reservedSeconds: number | null;
  reservedMicros: number | null;
  transport: DecisionRequest['transport'];
  extension: string;
  dialled: string;
  sourceAddress: string;
  origin: string;
  latencyUs: number;
  meta: Record<string, string>;
}

export interface ImportSummary {
  version: number;
  extensions: number;
  rates: number;
}

/** Site-wide policy settings as stored (`site` has no API route yet, but shares the mechanism). */
export interface PolicySettings {
  defaults: PolicyOverrides;
  rates: Rate[];
  highRisk: HighRiskList;
  blockedPrefixes: string[];
  site: SiteSettings;
}
export type PolicySettingKey = keyof PolicySettings;

export interface StoredSetting<T> {
  /** Null when the site never set it: the built-in value applies. */
  value: T | null;
  /** Policy version of the setting's last change, 0 if never changed: its ETag. */
  version: number;
}

export interface ExtensionLock extends LockRecord {
  ext: string;
}

export interface HistoryPage {
  limit: number;
  /** Only changes with a smaller id (the previous page's last). */
  beforeId?: number;
}

export interface PolicyChange {
  id: number;
  at: number;
  actor: string;
  subject: string;
  before: unknown;
  after: unknown;
  version: number;
}

export interface DecisionFilter {
  ext?: string;
  result?: DecisionRecord['result'];
  reason?: DecisionRecord['reason'];
  country?: string;
  /** Epoch ms, inclusive. */
  from?: number;
  /** Epoch ms, exclusive. */
  to?: number;
  /** Prefix of the dialled digits or of the E.164 form. */
  number?: string;
  /** Only shadow-mode decisions that enforce mode would have denied. */
  wouldDeny?: true;
  /** Only shadow-mode decisions enforce mode would have denied with this reason. */
  wouldReason?: DecisionRecord['reason'];
}

export interface DecisionPage {
  limit: number;
  /** Only decisions after this one in newest-first order. */
  after?: { at: number; id: string };
}

export interface SettlementRecord {
  at: number;
  answeredSeconds: number;
  dialStatus: string;
  outcome: SettlementOutcome;
  costMicros: number;
  /** What was reported; null for settlements recorded before dialguard kept it. */
  reported: string | null;
  /** answeredSeconds was clamped to the granted limit plus the tolerance. */
  clamped: boolean;
}

export type TokenRole = 'admin' | 'auditor';

export interface NewToken {
  name: string;
  role: TokenRole;
  /** sha256 of the token, hex: the token itself is never stored. */
  hash: string;
  actor: string;
}

export interface TokenRecord {
  id: number;
  name: string;
  role: TokenRole;
  hash: string;
  createdAt: number;
  createdBy: string;
}

export type AlertKind = 'warn' | 'breach' | 'lock' | 'circuit_breaker';
export type AlertSeverity = 'warn' | 'error';
/** `none`: no webhook or mail recipient was configured when the alert was handled. */
export type AlertDeliveryStatus = 'pending' | 'delivered' | 'failed' | 'none';

/** What an alert reports, beyond its message: the webhook payload carries every field. */
export interface AlertDetails {
  /** The count that crossed the threshold, with this attempt (currency units for spend). */
  count: number | null;
  limit: number | null;
  windowSeconds: number | null;
  country: string | null;
  /** Every velocity counter of the extension with the attempt's effect. */
  counts: Record<string, number>;
  /** The extension's velocity policy. */
  thresholds: Record<string, number | boolean | null>;
  /** Numbers the extension dialled in the window, newest first (at most 20). */
  numbers: string[];
  /** Their decision ids (DIALGUARD_CALL_ID), newest first. */
  decisionIds: string[];
  /** The extension was locked by the same decision. */
  locked: boolean;
}

export interface AlertDelivery {
  status: AlertDeliveryStatus;
  attempts: number;
  /** When the next attempt is due (epoch ms); null once delivered, failed or none. */
  nextAt: number | null;
  lastError: string | null;
  /**
   * The channels that took it: sha256 prefixes of the webhook URLs (URLs may hold secrets: never
   * stored) and `mailto:ADDRESS` of the mail recipients.
   */
  deliveredTo: string[];
}

export interface AlertRecord {
  id: string;
  at: number;
  /** The same condition recurring within its window updates this alert rather than adding one. */
  lastAt: number;
  occurrences: number;
  kind: AlertKind;
  severity: AlertSeverity;
  ext: string | null;
  check: string | null;
  counter: string | null;
  message: string;
  /** Raised by a shadow-mode decision: nothing was enforced. */
  shadow: boolean;
  decisionId: string | null;
  details: AlertDetails;
  acknowledged: { at: number; by: string } | null;
  delivery: AlertDelivery;
}

export interface AlertFilter {
  ext?: string;
  kind?: AlertKind;
  acknowledged?: boolean;
}

export interface AlertPage {
  limit: number;
  /** Only alerts older than this one (the previous page's last id). */
  beforeId?: string;
}

export interface CircuitBreakerRecord extends CircuitBreakerState {
  /** The call that opened it. */
  openedBy: { ext: string; callId: string } | null;
  resetAt: number | null;
  resetBy: string | null;
}
