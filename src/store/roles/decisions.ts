import type { Decision, DecisionRequest } from '../../domain/decision.js';
import type { FraudQuery } from '../../domain/fraud.js';
import type { UsageSnapshot } from '../../domain/usage.js';
import type { LockRecord } from './locks.js';
import type { ExtensionRecord, StoredPolicySet } from './policies.js';

/**
 * The decision path: what FastAGI, ARI and the dry runs need from the database, and nothing
 * else. Every store runs one authorisation as one transaction (SQLite: BEGIN IMMEDIATE;
 * PostgreSQL: one interactive transaction per batch) that, in this order:
 *
 * 1. expires the extension's reservations overdue at the request's time (their slot is freed,
 *    their cost stays charged);
 * 2. reads the extension's snapshot (policy set, entry, lock) and calls `decider.plan`;
 * 3. reads the usage the plan asked for (budget totals in its timezone, the velocity counters
 *    and the circuit breaker of its fraud query) and calls the plan's `decide`;
 * 4. gives the decision its call id; on an ALLOW with a grant and an E.164 number, reserves the
 *    grant (a slot, its seconds and cost, charged to the plan's day and month);
 * 5. writes the audit row, then applies the fraud effects (`composeFraudEffects` in src/fraud:
 *    velocity attempt, international spend, alerts, lock, breaker trip).
 *
 * Whatever serialises concurrent authorisations of one extension (and of international calls,
 * for the site breaker) must hold from step 1 to the commit: no budget, concurrency limit or
 * breaker may be exceeded by guards deciding at once, in one process or several.
 * A store may take what steps 1 to 3 read from memory where it knows that nothing but its own
 * writes changed it since (SQLite: src/store/sqlite/decision-view.ts); what it decides is the same.
 * The decider's steps are synchronous and pure: the engine does no I/O.
 */
export interface DecisionStore {
  /**
   * Group commit: several authorisations in one transaction, in order, each seeing the ones
   * before it. An item whose steps throw fails alone and leaves nothing written. Rejects only
   * when the transaction itself fails (the database is locked, unreachable or read-only).
   */
  authorizeBatch(items: ReadonlyArray<AuthorizeItem>): Promise<AuthorizeOutcome[]>;
  /**
   * The dry run (`dialguard check`, the simulator): steps 1 to 3 as an authorisation would see
   * them (overdue reservations count as expired), and nothing reserved, recorded or changed.
   */
  evaluate(request: DecisionRequest, decider: Decider): Promise<Decision>;
  /**
   * Replaces a reservation with the call's real cost. Idempotent: settling a call again
   * answers `duplicate` and changes no total; every attempt is logged as a settlement row.
   */
  settle(settlement: SettlementRequest): Promise<SettlementResult>;
}

/** What the store read about the calling extension, at the start of the decision's transaction. */
export interface ExtensionSnapshot {
  /** The stored policy as of the transaction (a store may reuse one object while its version holds). */
  policy: StoredPolicySet;
  extension: ExtensionRecord | null;
  lock: LockRecord | null;
}

/**
 * The engine's side of one decision (made by the guard, one per request), in two synchronous
 * steps that the store takes inside its transaction, reading between them: `plan` on the
 * extension's snapshot, then the plan's `decide` on the usage it asked for.
 */
export interface Decider {
  plan(snapshot: ExtensionSnapshot): DecisionPlan;
}

export interface DecisionPlan {
  /** Timezone of the budget day and month the usage is read for, and the reservation charged to. */
  timezone: string;
  /** The velocity counters and the circuit breaker to read; null: none (then `usage.velocity` and `usage.breaker` stay unset). */
  fraud: FraudQuery | null;
  /** `usage` carries `velocity` and `breaker` when `fraud` asked for them. */
  decide(usage: UsageSnapshot): Verdict;
}

export interface Verdict {
  decision: Decision;
  /** Time from the request's arrival to the decision, recorded in the audit. */
  latencyUs: number;
}

export interface AuthorizeItem {
  request: DecisionRequest;
  decider: Decider;
}

export type AuthorizeOutcome = { ok: true; decision: AuditedDecision } | { ok: false; error: unknown };

export interface AuditedDecision extends Decision {
  /** The decision's id (a ULID: sortable by time), DIALGUARD_CALL_ID; settlement names it. */
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
