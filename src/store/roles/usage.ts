import type { UsageSnapshot } from '../../domain/usage.js';

/**
 * Budgets as they stand, for the admin API and the metrics. Read the same state a decision
 * reads: a reservation overdue at `at` counts as expired (slot free, cost still charged)
 * whether or not a decision has expired it yet.
 */
export interface UsageStore {
  /** The extension's budget usage at `at`, with the day and month in `timezone` (no velocity counters, no breaker). */
  usage(ext: string, at: Date, timezone: string): Promise<UsageSnapshot>;
  /** Reservations still holding a slot at `at`, oldest first; of one extension when `ext` is given. */
  activeReservations(at: Date, ext?: string): Promise<ReservationRecord[]>;
  countActiveReservations(at: Date): Promise<number>;
}

export interface ReservationRecord {
  callId: string;
  ext: string;
  e164: string;
  /** An overdue reservation is `expired` once a decision of its extension (or the expiry sweep) has seen it; it holds no slot from `expiresAt` on. */
  status: 'active' | 'settled' | 'expired';
  reservedSeconds: number;
  reservedMicros: number;
  createdAt: number;
  expiresAt: number;
  answeredSeconds: number | null;
  dialStatus: string | null;
  costMicros: number | null;
}
