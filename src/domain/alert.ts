export type AlertKind = 'warn' | 'breach' | 'lock' | 'circuit_breaker';
export type AlertSeverity = 'warn' | 'error';

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
