import type { AlertDetails, AlertKind, AlertSeverity } from '../../domain/alert.js';

/**
 * Alerts as the admin API sees them. They are raised inside the decisions' transactions (the
 * decision path writes them, see DecisionStore); this role reads and acknowledges them.
 */
export interface AlertStore {
  /** Newest first. */
  listAlerts(filter: AlertFilter, page: AlertPage): Promise<AlertRecord[]>;
  getAlert(id: string): Promise<AlertRecord | null>;
  /** Null when there is no such alert; acknowledging twice keeps the first acknowledgement. */
  acknowledgeAlert(id: string, actor: string, at: Date): Promise<AlertRecord | null>;
}

/**
 * The webhook queue's side of the alerts: the alerts table is the queue, so nothing is lost
 * across a restart, and several guards on one database share it.
 */
export interface AlertQueue {
  /**
   * Alerts whose delivery is due at `now`, oldest due first, each claimed for `leaseMs`
   * (another guard on the same database skips it meanwhile); a claim that is never recorded
   * is due again after its lease.
   */
  claimDueAlerts(now: Date, limit: number, leaseMs: number): Promise<AlertRecord[]>;
  recordAlertDelivery(id: string, update: AlertDelivery): Promise<void>;
  /** When the next pending delivery is due (epoch ms), null if none is pending. */
  nextAlertDelivery(): Promise<number | null>;
}

/** `none`: no webhook was configured when the alert was handled. */
export type AlertDeliveryStatus = 'pending' | 'delivered' | 'failed' | 'none';

export interface AlertDelivery {
  status: AlertDeliveryStatus;
  attempts: number;
  /** When the next attempt is due (epoch ms); null once delivered, failed or none. */
  nextAt: number | null;
  lastError: string | null;
  /** sha256 prefixes of the webhook URLs that accepted it (URLs may hold secrets: never stored). */
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
