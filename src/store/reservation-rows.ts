import type { Grant } from '../domain/decision.js';
import type { PricedRate } from '../domain/rate.js';
import type { Periods } from './periods.js';
import type { ReservationRecord } from './roles/usage.js';

/** A reservations row as both stores keep it (the same columns in SQLite and PostgreSQL). */
export interface ReservationRow {
  call_id: string;
  ext: string;
  e164: string;
  per_minute_micros: number;
  increment: number;
  minimum: number;
  day: string;
  month: string;
  reserved_seconds: number;
  reserved_micros: number;
  created_at: number;
  expires_at: number;
  status: ReservationRecord['status'];
  answered_seconds: number | null;
  dial_status: string | null;
  cost_micros: number | null;
  /** The decision's signalling source address; null when it had none (or was reserved before it was kept). */
  source_ip: string | null;
}

/** What the decision path hands a store to reserve. */
export interface NewReservation {
  callId: string;
  ext: string;
  e164: string;
  rate: PricedRate;
  grant: Grant;
  periods: Periods;
  createdAt: number;
  expiresAt: number;
  /** The decision's signalling source address (no port), for the calls in progress per source. */
  sourceIp: string | null;
}
