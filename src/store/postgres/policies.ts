import type { Rate } from '../../domain/rate.js';
import type { HighRiskList } from '../../numbers/high-risk.js';
import type { PolicyOverrides } from '../../policy/schema.js';
import type { ExtensionLock, LockRecord } from '../roles/locks.js';
import type { ExtensionRecord, HistoryPage, PolicyChange, PolicySettingKey, SiteSettings, StoredPolicySet } from '../roles/policies.js';
import { policyJson } from '../stored-values.js';
import { run, statement, type Db } from './connection.js';

interface ExtensionRow {
  ext: string;
  overrides: PolicyOverrides;
  version: number;
  updated_at: number;
}

const toExtension = (row: ExtensionRow): ExtensionRecord => ({ ext: row.ext, overrides: row.overrides, version: row.version, updatedAt: row.updated_at });

/** JSON for a json column: null (SQL NULL) for nothing, as the SQLite store keeps it. */
export const json = (value: unknown): string | null => (value === undefined || value === null ? null : JSON.stringify(value));

const S = {
  version: statement('dg_policy_version', `SELECT value FROM meta WHERE key = 'policy_version'`),
  // Every policy write takes this row first: writes are serialised, and each callback sees the policy as it stands.
  lockVersion: statement('dg_policy_lock', `SELECT value FROM meta WHERE key = 'policy_version' FOR UPDATE`),
  recordChange: statement(
    'dg_policy_change',
    `WITH v AS (UPDATE meta SET value = value + 1 WHERE key = 'policy_version' RETURNING value)
     INSERT INTO policy_changes (at, actor, subject, before, after, version) SELECT $1, $2, $3, $4::json, $5::json, value FROM v RETURNING version`,
  ),
  // Version and settings in one statement: the set read is exactly the one of that version.
  loadSet: statement(
    'dg_policy_set',
    `SELECT (SELECT value FROM meta WHERE key = 'policy_version') AS version,
       coalesce((SELECT json_object_agg(key, value) FROM settings), '{}'::json) AS settings`,
  ),
  setting: statement('dg_setting', `SELECT value FROM settings WHERE key = $1`),
  putSetting: statement('dg_put_setting', `INSERT INTO settings (key, value) VALUES ($1, $2::json) ON CONFLICT (key) DO UPDATE SET value = excluded.value`),
  extension: statement('dg_extension', `SELECT ext, overrides, version, updated_at FROM extensions WHERE ext = $1`),
  extensions: statement('dg_extensions', `SELECT ext, overrides, version, updated_at FROM extensions ORDER BY ext`),
  putExtension: statement(
    'dg_put_extension',
    `INSERT INTO extensions (ext, overrides, version, updated_at) VALUES ($1, $2::json, $3, $4)
     ON CONFLICT (ext) DO UPDATE SET overrides = excluded.overrides, version = excluded.version, updated_at = excluded.updated_at`,
  ),
  deleteExtension: statement('dg_delete_extension', `DELETE FROM extensions WHERE ext = $1`),
  lock: statement('dg_lock', `SELECT reason, actor, at FROM locks WHERE ext = $1`),
  locks: statement('dg_locks', `SELECT ext, reason, actor, at FROM locks ORDER BY ext`),
  // The change (before: the lock as getLock reads it) and the lock in one statement.
  putLock: statement(
    'dg_put_lock',
    `WITH before AS (SELECT json_build_object('reason', reason, 'actor', actor, 'at', at) AS lock FROM locks WHERE ext = $1),
     v AS (UPDATE meta SET value = value + 1 WHERE key = 'policy_version' RETURNING value),
     c AS (INSERT INTO policy_changes (at, actor, subject, before, after, version)
           SELECT $2, $3, 'lock:' || $1, (SELECT lock FROM before), json_build_object('reason', $4::text), value FROM v)
     INSERT INTO locks (ext, reason, actor, at) VALUES ($1, $4, $3, $2)
     ON CONFLICT (ext) DO UPDATE SET reason = excluded.reason, actor = excluded.actor, at = excluded.at`,
  ),
  deleteLock: statement('dg_delete_lock', `DELETE FROM locks WHERE ext = $1`),
  subjectVersion: statement('dg_subject_version', `SELECT version FROM policy_changes WHERE subject = $1 ORDER BY id DESC LIMIT 1`),
  history: statement(
    'dg_history',
    `SELECT id, at, actor, subject, before, after, version FROM policy_changes
     WHERE subject = ANY($1::text[]) AND id < $2 ORDER BY id DESC LIMIT $3`,
  ),
};

/** The policy set as stored, with the SQLite store's fallbacks for what the site never set. */
export function toPolicySet(version: number, raw: Partial<Record<PolicySettingKey, unknown>>): StoredPolicySet {
  return {
    version,
    defaults: (raw.defaults ?? {}) as PolicyOverrides,
    rates: (raw.rates ?? null) as Rate[] | null,
    highRisk: (raw.highRisk ?? null) as HighRiskList | null,
    blockedPrefixes: (raw.blockedPrefixes ?? []) as string[],
    site: { denyUnknownExtensions: false, ...((raw.site ?? {}) as Partial<SiteSettings>) },
  };
}

/** Policy rows, locks and the change log. Every write bumps the one policy version. */
export const policies = {
  async version(db: Db): Promise<number> {
    const [row] = await run<{ value: number }>(db, S.version, []);
    return row?.value ?? 0;
  },

  /** Serialises this transaction with every other policy write; call first in a write transaction. */
  async lockVersion(db: Db): Promise<void> {
    await run(db, S.lockVersion, []);
  },

  /** Increments the policy version and logs the change; returns the new version. */
  async recordChange(db: Db, actor: string, subject: string, before: unknown, after: unknown): Promise<number> {
    const [row] = await run<{ version: number }>(db, S.recordChange, [Date.now(), actor, subject, json(before), json(after)]);
    return (row as { version: number }).version;
  },

  async loadSet(db: Db): Promise<StoredPolicySet> {
    const [row] = await run<{ version: number; settings: Partial<Record<PolicySettingKey, unknown>> }>(db, S.loadSet, []);
    return toPolicySet(row?.version ?? 0, row?.settings ?? {});
  },

  async getSetting(db: Db, key: PolicySettingKey): Promise<unknown> {
    const [row] = await run<{ value: unknown }>(db, S.setting, [key]);
    return row === undefined ? undefined : row.value;
  },
  async putSetting(db: Db, key: PolicySettingKey, value: unknown): Promise<void> {
    await run(db, S.putSetting, [key, policyJson(value, `the ${key} setting`)]);
  },

  async getExtension(db: Db, ext: string): Promise<ExtensionRecord | null> {
    const [row] = await run<ExtensionRow>(db, S.extension, [ext]);
    return row ? toExtension(row) : null;
  },
  async listExtensions(db: Db): Promise<ExtensionRecord[]> {
    return (await run<ExtensionRow>(db, S.extensions, [])).map(toExtension);
  },
  async putExtension(db: Db, ext: string, overrides: PolicyOverrides, version: number): Promise<void> {
    await run(db, S.putExtension, [ext, policyJson(overrides, `the policy of extension ${ext}`), version, Date.now()]);
  },
  async deleteExtension(db: Db, ext: string): Promise<void> {
    await run(db, S.deleteExtension, [ext]);
  },

  async getLock(db: Db, ext: string): Promise<LockRecord | null> {
    const [row] = await run<LockRecord>(db, S.lock, [ext]);
    return row ?? null;
  },
  listLocks: (db: Db): Promise<ExtensionLock[]> => run<ExtensionLock>(db, S.locks, []),
  /** Locks (or replaces the reason of a lock), recorded in the history under `lock:EXT`. */
  putLock(db: Db, ext: string, reason: string, actor: string): Promise<unknown> {
    return run(db, S.putLock, [ext, Date.now(), actor, reason]);
  },
  async deleteLock(db: Db, ext: string): Promise<void> {
    await run(db, S.deleteLock, [ext]);
  },

  /** Policy version of the subject's last change; 0 if it never changed. */
  async subjectVersion(db: Db, subject: string): Promise<number> {
    const [row] = await run<{ version: number }>(db, S.subjectVersion, [subject]);
    return row?.version ?? 0;
  },

  async history(db: Db, subjects: string[], page: HistoryPage): Promise<PolicyChange[]> {
    if (subjects.length === 0) return [];
    return run<PolicyChange>(db, S.history, [subjects, page.beforeId ?? Number.MAX_SAFE_INTEGER, page.limit]);
  },
};
