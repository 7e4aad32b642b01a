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
