import type { Logger } from 'pino';
import { DAY_MS, HOUR_MS } from '../domain/windows.js';

/**
 * Audit retention, the part every store shares: what a run reports, and the schedule (at start,
 * then every `intervalMs`, one log line per run). Each store prunes its own tables in batches
 * (store/sqlite/retention.ts, store/postgres/retention.ts); what they keep is the same.
 */
export interface PruneCounts {
  decisions: number;
  reservations: number;
  settlements: number;
  alerts: number;
  velocityAttempts: number;
  velocityDestinations: number;
  usageTotals: number;
}

export interface PruneReport {
  /** Rows older than this (ms) were pruned. */
  before: number;
  pruned: PruneCounts;
  /** Write transactions the run took. */
  transactions: number;
}

export interface PruneOptions {
  /** Decisions older than this many days go; at least 1. */
  days: number;
  now: number;
  /** Rows a transaction deletes at most. */
  batchRows: number;
  /** After each transaction: the event loop, and the decisions waiting on it, run. */
  pauseMs: number;
  /** Checked between transactions: a run stops early when the server does. */
  stopped?: () => boolean;
}

export const DEFAULT_BATCH_ROWS = 200;
export const DEFAULT_PAUSE_MS = 20;
const DEFAULT_INTERVAL_MS = HOUR_MS;

export const noneYet = (): PruneCounts => ({ decisions: 0, reservations: 0, settlements: 0, alerts: 0, velocityAttempts: 0, velocityDestinations: 0, usageTotals: 0 });

/** Never before the epoch: ids encode time from there. */
export const pruneBefore = (options: PruneOptions): number => Math.max(0, options.now - options.days * DAY_MS);

/** The oldest budget periods kept: a day row is a day in the policy's timezone, so cut a day early and no zone still counts it. */
export function keptPeriods(before: number): { day: string; month: string } {
  const day = new Date(before - DAY_MS).toISOString().slice(0, 10);
  return { day: `d:${day}`, month: `m:${day.slice(0, 7)}` };
}

export interface RetentionSchedule {
  /** 0: keep everything, never prune. */
  days: number;
  logger?: Logger;
  intervalMs?: number;
  batchRows?: number;
  pauseMs?: number;
}

export interface Retention {
  /** Ends the run in progress after its current transaction, and closes what the runs used. */
  stop(): Promise<void>;
}

/** Runs `prune` at once, then every interval; a run that fails is logged and tried again at the next. */
export function scheduleRetention(schedule: RetentionSchedule, prune: (options: PruneOptions) => Promise<PruneReport>, close: () => Promise<void> | void = () => undefined): Retention {
  const { days, logger } = schedule;
  if (days === 0) {
    logger?.info({ auditRetentionDays: 0 }, 'audit retention off: decisions are kept forever');
    return { stop: async () => undefined };
  }
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  const run = async (): Promise<void> => {
    const started = Date.now();
    try {
      const report = await prune({
        days,
        now: started,
        batchRows: schedule.batchRows ?? DEFAULT_BATCH_ROWS,
        pauseMs: schedule.pauseMs ?? DEFAULT_PAUSE_MS,
        stopped: () => stopped,
      });
      logger?.info({ auditRetentionDays: days, before: new Date(report.before).toISOString(), pruned: report.pruned, transactions: report.transactions, ms: Date.now() - started }, 'audit retention: old rows pruned');
    } catch (err) {
      logger?.error({ err, auditRetentionDays: days }, 'audit retention run failed; trying again at the next interval');
    }
    if (!stopped) timer = setTimeout(() => (running = run()), schedule.intervalMs ?? DEFAULT_INTERVAL_MS).unref();
  };
  running = run();

  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
      await close();
    },
  };
}
