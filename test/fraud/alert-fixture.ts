import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'vitest';
import { startAlertDelivery, type AlertDeliveryService } from '../../src/alerts/delivery.js';
import type { AlertsConfig } from '../../src/config/config.js';
import type { AlertQueue } from '../../src/store/roles/alerts.js';
import { memoryLogger, type LogRecord } from '../agi/memory-logger.js';
import { tempGuard, type TempGuard } from '../support/temp-db.js';
import { call } from './fixture.js';

/** A site where only velocity stops a call: every country and source, no budget, a cheap rate. */
export const OPEN_SITE = {
  defaults: {
    destinations: { allowCountries: ['*'] },
    geofence: { allowCountries: ['*'] },
    budget: { dailySpend: null, monthlySpend: null, dailyMinutes: null, maxConcurrent: null },
  },
  rates: [{ prefix: '+', perMinute: 0.01, increment: 60 }],
};

/** One breach alert on a fresh guard: the eleventh call of a minute, throttled (no lock, so exactly one alert). */
export async function guardWithBreach(): Promise<{ t: TempGuard; id: string }> {
  const t = await tempGuard({ ...OPEN_SITE, defaults: { ...OPEN_SITE.defaults, velocity: { lockOnBreach: false, warnRatio: null } } });
  const now = Date.now();
  for (let i = 0; i < 10; i++) await t.guard.authorize(call('1001', '12125550123', new Date(now + i)));
  expect((await t.guard.authorize(call('1001', '12125550123', new Date(now + 10)))).reason).toBe('velocity_exceeded');
  const [alert] = await t.store.listAlerts({}, { limit: 5 });
  return { t, id: alert?.id as string };
}

export async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(10);
  }
}

/** The delivery queue on a test's store, fast: 3 attempts, 20 ms backoff and polling; `config` wins. */
export function startFastDelivery(store: AlertQueue, config: Partial<AlertsConfig>): { delivery: AlertDeliveryService; logs: LogRecord[] } {
  const memory = memoryLogger();
  const delivery = startAlertDelivery({
    webhooks: [],
    secret: null,
    timeoutMs: 1000,
    maxAttempts: 3,
    retryBaseMs: 20,
    mail: null,
    pollIntervalMs: 20,
    ...config,
    store,
    logger: memory.logger,
  });
  return { delivery, logs: memory.records };
}
