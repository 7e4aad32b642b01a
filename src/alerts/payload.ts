import type { AlertDetails } from '../domain/alert.js';
import type { AlertRecord } from '../store/roles/alerts.js';

/** The JSON body of a webhook POST: the alert, flat, times in ISO 8601 UTC. */
export interface AlertPayload extends AlertDetails {
  id: string;
  kind: AlertRecord['kind'];
  severity: AlertRecord['severity'];
  at: string;
  lastAt: string;
  occurrences: number;
  extension: string | null;
  check: string | null;
  counter: string | null;
  message: string;
  shadow: boolean;
  decisionId: string | null;
}

export function alertPayload(alert: AlertRecord): AlertPayload {
  const { details } = alert;
  return {
    id: alert.id,
    kind: alert.kind,
    severity: alert.severity,
    at: new Date(alert.at).toISOString(),
    lastAt: new Date(alert.lastAt).toISOString(),
    occurrences: alert.occurrences,
    extension: alert.ext,
    check: alert.check,
    counter: alert.counter,
    message: alert.message,
    shadow: alert.shadow,
    decisionId: alert.decisionId,
    count: details.count,
    limit: details.limit,
    windowSeconds: details.windowSeconds,
    country: details.country,
    counts: details.counts,
    thresholds: details.thresholds,
    numbers: details.numbers,
    decisionIds: details.decisionIds,
    locked: details.locked,
  };
}
