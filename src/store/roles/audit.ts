import type { DecisionRequest } from '../../domain/decision.js';
import type { AuditedDecision, SettlementOutcome } from './decisions.js';
import type { ReservationRecord } from './usage.js';

/** The audit's read side, for the admin API and the dashboard. */
export interface AuditStore {
  getDecision(callId: string): Promise<DecisionRecord | null>;
  /** Newest first: by time, then by id (ULIDs, so ties keep their order of creation). Keyset paging: a page never shifts when decisions arrive. */
  listDecisions(filter: DecisionFilter, page: DecisionPage): Promise<DecisionRecord[]>;
  /**
   * Every matching decision, newest first, read a batch at a time: constant memory, and the
   * database stays free between batches. Stopping the iteration early releases what it holds.
   */
  exportDecisions(filter: DecisionFilter): AsyncIterable<DecisionRecord>;
  /** Every settlement attempt of a call, in order. */
  listSettlements(callId: string): Promise<SettlementRecord[]>;
  getReservation(callId: string): Promise<ReservationRecord | null>;
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

export interface DecisionFilter {
  ext?: string;
  result?: DecisionRecord['result'];
  reason?: DecisionRecord['reason'];
  country?: string;
  /** Epoch ms, inclusive. */
  from?: number;
  /** Epoch ms, exclusive. */
  to?: number;
  /** Prefix of the dialled digits or of the E.164 form, matched literally. */
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
