import type { Database } from 'better-sqlite3';
import type { UsageSnapshot } from '../../domain/usage.js';
import type { LockRecord } from '../roles/locks.js';
import type { ExtensionRecord } from '../roles/policies.js';
import type { BudgetTotals } from './reservations.js';
import type { LatestAttempt } from './velocity.js';

/**
 * Extensions kept in the view, least recently decided dropped first: each entry is a few hundred
 * bytes (its policy entry, lock and totals), so the view stays under a few MB on any PBX.
 */
export const VIEW_EXTENSIONS = 10_000;

/** What this process last read or wrote about one extension; undefined: not known, read it. */
export interface ExtensionView {
  extension?: ExtensionRecord | null;
  lock?: LockRecord | null;
  /** The budget totals of one day and month (the periods they were read for). */
  totals?: BudgetTotals;
  active?: ActiveSlots;
  /** When its oldest number in the velocity table was last called, or earlier (Infinity: none kept). */
  oldestNumber?: number;
  /** Its latest velocity attempt (the running counts the next one goes on from). */
  latestAttempt?: LatestAttempt;
}

/** Reservations holding a slot, and the earliest time one of them can expire (never later than it). */
export interface ActiveSlots {
  calls: number;
  nextExpiry: number;
}

/**
 * "Read nothing twice": while no other connection has committed to the file, what this process
 * read and then wrote itself is still what the database holds, so a decision reads it from here
 * and only writes in its transaction. SQLite's `PRAGMA data_version` changes exactly when another
 * connection commits; it is read inside each decision batch's write transaction (BEGIN IMMEDIATE),
 * so nothing can commit between the check and the batch's own commit. Any other write this
 * process makes to what the view holds (a policy edit, a lock, a settlement) forgets it.
 */
export function createDecisionView(db: Database, capacity = VIEW_EXTENSIONS) {
  const dataVersion = db.prepare<[], number>('PRAGMA data_version').pluck();
  const entries = new Map<string, ExtensionView>();
  let seen: number | null = null;
  let policyVersion: number | undefined;

  const clear = (): void => {
    entries.clear();
    policyVersion = undefined;
  };

  return {
    /** Call first in every decision transaction: forgets everything if another connection committed since. */
    begin(): void {
      const version = dataVersion.get() as number;
      if (version !== seen) clear();
      seen = version;
    },

    /** The extension's entry, made the most recent (created empty when absent). */
    entry(ext: string): ExtensionView {
      let entry = entries.get(ext);
      if (entry) {
        entries.delete(ext);
      } else {
        entry = {};
        if (entries.size >= capacity) entries.delete(entries.keys().next().value as string);
      }
      entries.set(ext, entry);
      return entry;
    },

    policyVersion(read: () => number): number {
      policyVersion ??= read();
      return policyVersion;
    },

    /** A policy write in the decision path (a lock): the version is read again. */
    policyChanged(): void {
      policyVersion = undefined;
    },

    forget(ext: string): void {
      entries.delete(ext);
    },

    /** Attempts pruned: the latest attempt held for these extensions may be gone with them. */
    pruned(exts: readonly string[]): void {
      for (const ext of exts) {
        const entry = entries.get(ext);
        if (entry) entry.latestAttempt = undefined;
      }
    },

    /** A write this process made outside the decision path, or a transaction that failed: nothing is known. */
    clear,
  };
}

export type DecisionView = ReturnType<typeof createDecisionView>;

/** The usage a decision sees, from what the view holds of its extension. */
export function viewedUsage(totals: BudgetTotals, active: ActiveSlots): UsageSnapshot {
  return { activeCalls: active.calls, spentTodayMicros: totals.spentToday, spentMonthMicros: totals.spentMonth, secondsToday: totals.secondsToday };
}
