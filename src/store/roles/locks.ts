import type { AlertDraft } from '../../fraud/effects.js';

/**
 * Extension locks (set by an admin or by a velocity breach): a locked extension gets
 * `extension_locked` on every call but emergency numbers. Each change is in the policy history
 * under `lock:EXT` and bumps the policy version.
 */
export interface LockStore {
  getLock(ext: string): Promise<LockRecord | null>;
  /** By extension. */
  listLocks(): Promise<ExtensionLock[]>;
  /** Locks, or replaces the reason of a lock already set. */
  lock(ext: string, reason: string, actor: string): Promise<void>;
  /**
   * False when it was not locked. Unlocking also forgets the extension's velocity counters (not
   * its countries' history): its next call must not trip on the counts that locked it.
   */
  unlock(ext: string, actor: string): Promise<boolean>;
}

export interface LockRecord {
  reason: string;
  actor: string;
  at: number;
}

export interface ExtensionLock extends LockRecord {
  ext: string;
}

/**
 * An account taken over (src/intrusion): Asterisk saw it authenticate from a source with a
 * history, outside any call, so its lock and its alert are one transaction of their own.
 */
export interface TakeoverStore {
  /**
   * Locks `ext` with `lock` (recorded in the policy history as any lock) unless it is locked
   * already, whose reason is then kept; raises `alert` either way. True when this call locked it.
   * `lock` null: the alert alone (the policy does not lock on a takeover).
   */
  lockTakenOver(ext: string, lock: { reason: string; actor: string } | null, alert: AlertDraft): Promise<boolean>;
}
