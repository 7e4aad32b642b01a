import type { Decision, DecisionRequest, UsageSnapshot } from '../engine/types.js';
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
  /** The same evaluation with nothing reserved or recorded: dry runs. */
  evaluate(request: DecisionRequest, decide: (tx: AuthorizeTx) => Verdict): Decision;
  settle(settlement: SettlementRequest): SettlementResult;
  getDecision(callId: string): DecisionRecord | null;
  getReservation(callId: string): ReservationRecord | null;
  usage(ext: string, at: Date, timezone: string): UsageSnapshot;

  close(): void;
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
}

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
  answeredSeconds: number;
  dialStatus: string;
  at: Date;
}

export type SettlementOutcome = 'settled' | 'settled_after_expiry' | 'duplicate' | 'unknown' | 'no_reservation';

export interface SettlementResult {
  outcome: SettlementOutcome;
  callId: string;
  ext: string | null;
  costMicros: number;
  reservedMicros: number;
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
