import type { Database } from 'better-sqlite3';
import type { HighRiskList } from '../../numbers/high-risk.js';
import type { PolicyOverrides } from '../../policy/schema.js';
import type { Rate } from '../../domain/rate.js';
import type { LockRecord } from '../roles/locks.js';
import type { ExtensionRecord, SiteSettings, StoredPolicySet } from '../roles/policies.js';
import { policyJson } from '../stored-values.js';

interface ExtensionRow {
  ext: string;
  overrides: string;
  version: number;
  updated_at: number;
}

const toExtension = (row: ExtensionRow): ExtensionRecord => ({
  ext: row.ext,
  overrides: JSON.parse(row.overrides) as PolicyOverrides,
  version: row.version,
  updatedAt: row.updated_at,
});

export const SETTING_KEYS = ['defaults', 'rates', 'highRisk', 'blockedPrefixes', 'site'] as const;
export type SettingKey = (typeof SETTING_KEYS)[number];

/** Policy rows, locks and the change log. Every write bumps the one policy version. */
export function createPolicyRepository(db: Database) {
  const s = {
    version: db.prepare<[], { value: string }>(`SELECT value FROM meta WHERE key = 'policy_version'`).pluck(),
    bump: db.prepare(`UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'policy_version' RETURNING CAST(value AS INTEGER) AS v`).pluck(),
    settings: db.prepare<[], { key: string; value: string }>(`SELECT key, value FROM settings`),
    setting: db.prepare<[string], { value: string }>(`SELECT value FROM settings WHERE key = ?`).pluck(),
    putSetting: db.prepare(`INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`),
    extension: db.prepare<[string], ExtensionRow>(`SELECT ext, overrides, version, updated_at FROM extensions WHERE ext = ?`),
    extensions: db.prepare<[], ExtensionRow>(`SELECT ext, overrides, version, updated_at FROM extensions ORDER BY ext`),
    putExtension: db.prepare(
      `INSERT INTO extensions (ext, overrides, version, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (ext) DO UPDATE SET overrides = excluded.overrides, version = excluded.version, updated_at = excluded.updated_at`,
    ),
    deleteExtension: db.prepare(`DELETE FROM extensions WHERE ext = ?`),
    lock: db.prepare<[string], LockRecord>(`SELECT reason, actor, at FROM locks WHERE ext = ?`),
    putLock: db.prepare(`INSERT INTO locks (ext, reason, actor, at) VALUES (?, ?, ?, ?) ON CONFLICT (ext) DO UPDATE SET reason = excluded.reason, actor = excluded.actor, at = excluded.at`),
    deleteLock: db.prepare(`DELETE FROM locks WHERE ext = ?`),
    change: db.prepare(`INSERT INTO policy_changes (at, actor, subject, before, after, version) VALUES (?, ?, ?, ?, ?, ?)`),
  };

  const json = (value: unknown): string | null => (value === undefined || value === null ? null : JSON.stringify(value));

  return {
    version: (): number => Number(s.version.get()),

    /** Increments the policy version and logs the change; call inside a write transaction. */
    recordChange(actor: string, subject: string, before: unknown, after: unknown): number {
      const version = s.bump.get() as number;
      s.change.run(Date.now(), actor, subject, json(before), json(after), version);
      return version;
    },

    loadSet(): StoredPolicySet {
      const raw = new Map(s.settings.all().map((r) => [r.key, JSON.parse(r.value) as unknown]));
      return {
        version: Number(s.version.get()),
        defaults: (raw.get('defaults') ?? {}) as PolicyOverrides,
        rates: (raw.get('rates') ?? null) as Rate[] | null,
        highRisk: (raw.get('highRisk') ?? null) as HighRiskList | null,
        blockedPrefixes: (raw.get('blockedPrefixes') ?? []) as string[],
        site: { denyUnknownExtensions: false, ...((raw.get('site') ?? {}) as Partial<SiteSettings>) },
      };
    },

    getSetting(key: SettingKey): unknown {
      const value = s.setting.get(key);
      return value === undefined ? undefined : JSON.parse(value as unknown as string);
    },
    putSetting(key: SettingKey, value: unknown): void {
      s.putSetting.run(key, policyJson(value, `the ${key} setting`));
    },

    getExtension(ext: string): ExtensionRecord | null {
      const row = s.extension.get(ext);
      return row ? toExtension(row) : null;
    },
    listExtensions: (): ExtensionRecord[] => s.extensions.all().map(toExtension),
    putExtension(ext: string, overrides: PolicyOverrides, version: number): void {
      s.putExtension.run(ext, policyJson(overrides, `the policy of extension ${ext}`), version, Date.now());
    },
    deleteExtension: (ext: string): boolean => s.deleteExtension.run(ext).changes > 0,

    getLock: (ext: string): LockRecord | null => s.lock.get(ext) ?? null,
    putLock(ext: string, reason: string, actor: string): void {
      s.putLock.run(ext, reason, actor, Date.now());
    },
    deleteLock: (ext: string): boolean => s.deleteLock.run(ext).changes > 0,
  };
}

export type PolicyRepository = ReturnType<typeof createPolicyRepository>;
