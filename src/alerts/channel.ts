import type { AlertRecord } from '../store/roles/alerts.js';

export type DeliveryResult = { ok: true } | { ok: false; error: string };

/**
 * Somewhere an alert is sent: one webhook URL, one mail recipient. The delivery queue sends each
 * alert once to every channel whose id is not yet in the alert's `deliveredTo`, and retries only
 * those that failed.
 */
export interface DeliveryChannel {
  /** What the store keeps in `deliveredTo`: stable across restarts, never a secret. */
  readonly id: string;
  /** Never rejects; `signal` aborts it when the guard stops. Errors name no secret. */
  send(alert: AlertRecord, attempt: number, signal: AbortSignal): Promise<DeliveryResult>;
}
