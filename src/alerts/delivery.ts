import type { Logger } from 'pino';
import type { AlertsConfig } from '../config/config.js';
import type { AlertQueue, AlertRecord } from '../store/roles/alerts.js';
import type { DeliveryChannel } from './channel.js';
import { createMailer } from './mail.js';
import { webhookChannel } from './webhook.js';

export interface AlertDeliveryOptions extends AlertsConfig {
  store: AlertQueue;
  logger: Logger;
  /** Longest wait between two looks at the queue: alerts are raised by decisions, in this process or another. */
  pollIntervalMs?: number;
}

export interface AlertDeliveryService {
  /** Stops looking; requests in flight are aborted and their alerts retried on the next start. */
  stop(): Promise<void>;
}

export const DEFAULT_POLL_INTERVAL_MS = 1000;
/** Alerts handled per look at the queue. */
const BATCH = 20;
/** Longest wait between two attempts, however many failed. */
const MAX_BACKOFF_MS = 10 * 60_000;

/**
 * The alert queue: every alert row is logged once (pino, `warn` or `error`), POSTed to each
 * webhook and mailed to each recipient, outside the decision path. A delivery that fails is
 * retried with exponential backoff until `maxAttempts`, only to the channels that have not taken
 * it yet, then marked failed; each request has its own timeout. The queue is the
 * alerts table itself, so nothing is lost across a restart, and a claim holds an alert for one
 * attempt so that several guard processes on one database do not send it twice.
 */
export function startAlertDelivery(options: AlertDeliveryOptions): AlertDeliveryService {
  const { store, logger, webhooks, secret, timeoutMs, maxAttempts, retryBaseMs, mail } = options;
  const channels: DeliveryChannel[] = [
    ...webhooks.map((url) => webhookChannel(url, { secret, timeoutMs })),
    ...(mail ? createMailer(mail, { timeoutMs }).channels : []),
  ];
  const pollMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  // Long enough for the channels to time out together (they are sent to in parallel).
  const leaseMs = timeoutMs + 5000;
  const log = logger.child({ component: 'alerts' });
  const aborter = new AbortController();
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;

  if (webhooks.length > 0 && !secret) log.warn('alert webhooks are not signed: set DIALGUARD_ALERT_SECRET so that receivers can check them');

  const backoff = (attempts: number): number => Math.min(MAX_BACKOFF_MS, retryBaseMs * 2 ** (attempts - 1));

  const announce = (alert: AlertRecord): void => {
    const { details } = alert;
    const fields = {
      alertId: alert.id,
      kind: alert.kind,
      extension: alert.ext,
      check: alert.check,
      counter: alert.counter,
      count: details.count,
      limit: details.limit,
      shadow: alert.shadow,
      locked: details.locked,
      decisionId: alert.decisionId,
    };
    log[alert.severity === 'error' ? 'error' : 'warn'](fields, `alert: ${alert.message}`);
  };

  const deliver = async (alert: AlertRecord): Promise<void> => {
    if (alert.delivery.attempts === 0) announce(alert);
    if (channels.length === 0) {
      await store.recordAlertDelivery(alert.id, { status: 'none', attempts: 0, nextAt: null, lastError: null, deliveredTo: [] });
      return;
    }
    const attempt = alert.delivery.attempts + 1;
    const pending = channels.filter((channel) => !alert.delivery.deliveredTo.includes(channel.id));
    const results = await Promise.all(pending.map((channel) => channel.send(alert, attempt, aborter.signal)));
    // Stopping aborted the requests: the lease runs out and the next start tries again.
    if (stopped) return;
    const deliveredTo = [...alert.delivery.deliveredTo, ...pending.filter((_channel, i) => results[i]?.ok).map((channel) => channel.id)];
    const errors = results.flatMap((r) => (r.ok ? [] : [r.error]));
    const lastError = errors.length > 0 ? errors.join('; ') : null;
    if (lastError === null) {
      await store.recordAlertDelivery(alert.id, { status: 'delivered', attempts: attempt, nextAt: null, lastError: null, deliveredTo });
      log.info({ alertId: alert.id, attempt }, 'alert delivered');
    } else if (attempt >= maxAttempts) {
      await store.recordAlertDelivery(alert.id, { status: 'failed', attempts: attempt, nextAt: null, lastError, deliveredTo });
      log.error({ alertId: alert.id, attempt, error: lastError }, 'alert delivery failed: no more retries');
    } else {
      const nextAt = Date.now() + backoff(attempt);
      await store.recordAlertDelivery(alert.id, { status: 'pending', attempts: attempt, nextAt, lastError, deliveredTo });
      log.warn({ alertId: alert.id, attempt, error: lastError, retryAt: new Date(nextAt).toISOString() }, 'alert delivery failed, will retry');
    }
  };

  /** When the next alert is due, read without a write lock: a quiet queue costs the decisions nothing. */
  const nextDue = async (): Promise<number | null> => {
    try {
      return await store.nextAlertDelivery();
    } catch (error) {
      log.warn({ err: error }, 'cannot read the alert queue, retrying');
      return null;
    }
  };

  const schedule = async (): Promise<void> => {
    if (stopped) return;
    const next = await nextDue();
    if (stopped) return;
    const wait = next === null ? pollMs : Math.max(0, Math.min(pollMs, next - Date.now()));
    timer = setTimeout(tick, wait);
    // The queue never keeps the process alive on its own.
    timer.unref();
  };

  const tick = (): void => {
    timer = null;
    const handleDue = async (): Promise<void> => {
      const next = await nextDue();
      if (next === null || next > Date.now()) return;
      try {
        const due = await store.claimDueAlerts(new Date(), BATCH, leaseMs);
        await Promise.all(due.map((alert) => deliver(alert).catch((error: unknown) => log.error({ err: error, alertId: alert.id }, 'alert delivery crashed'))));
      } catch (error) {
        log.warn({ err: error }, 'cannot claim alerts, retrying');
      }
    };
    running = handleDue().then(schedule);
  };

  running = schedule();
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      aborter.abort();
      await running;
    },
  };
}
