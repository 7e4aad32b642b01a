import type { Rate } from '../../domain/rate.js';
import type { HighRiskList } from '../../numbers/high-risk.js';
import type { PolicyDocument } from '../../policy/document.js';
import type { PolicyOverrides } from '../../policy/schema.js';

/**
 * Policy as stored: the site settings, the per-extension overrides and the change log. Every
 * write bumps the one policy version, which every decision compares inside its transaction,
 * so a change made through any guard's API is enforced by every guard's next decision.
 *
 * The writes take a synchronous callback that the store runs inside the write's transaction,
 * on the current value and the rest of the policy as of that transaction: it checks (If-Match,
 * validation) and returns the new value, or throws to change nothing. Validation is the
 * caller's; the store stores what the callback returns.
 */
export interface PolicyStore {
  loadPolicySet(): Promise<StoredPolicySet>;
  getExtension(ext: string): Promise<ExtensionRecord | null>;
  /** By name. */
  listExtensions(): Promise<ExtensionRecord[]>;
  readSetting<K extends PolicySettingKey>(key: K): Promise<StoredSetting<PolicySettings[K]>>;
  /** Replaces an extension's overrides with what `update` returns; null deletes the entry. */
  updateExtension(ext: string, actor: string, update: (current: ExtensionRecord | null, policy: StoredPolicySet) => PolicyOverrides | null): Promise<ExtensionRecord | null>;
  updateSetting<K extends PolicySettingKey>(
    key: K,
    actor: string,
    update: (current: StoredSetting<PolicySettings[K]>, policy: PolicyState) => PolicySettings[K],
  ): Promise<StoredSetting<PolicySettings[K]>>;
  /** Replaces every section the document has, in one transaction, if `check` (run inside it) does not throw. */
  importDocument(doc: PolicyDocument, actor: string, check: (policy: PolicyState) => void): Promise<ImportSummary>;
  /** Changes of the given subjects (`defaults`, `extension:1001`, `lock:1001`, `circuit-breaker`…), newest first. */
  policyHistory(subjects: string[], page: HistoryPage): Promise<PolicyChange[]>;
}

export interface ExtensionRecord {
  ext: string;
  overrides: PolicyOverrides;
  /** Policy version of the entry's last change: its ETag. */
  version: number;
  updatedAt: number;
}

export interface SiteSettings {
  denyUnknownExtensions: boolean;
}

/**
 * Everything policy-like that is not per extension, as stored: null where the site never set
 * it, so that the built-in value (which depends on the home country) applies.
 */
export interface StoredPolicySet {
  version: number;
  defaults: PolicyOverrides;
  rates: Rate[] | null;
  highRisk: HighRiskList | null;
  blockedPrefixes: string[];
  site: SiteSettings;
}

/** The whole stored policy as of a write's transaction: what a site-wide change is checked against. */
export interface PolicyState {
  set: StoredPolicySet;
  extensions: ReadonlyArray<ExtensionRecord>;
}

/** Site-wide policy settings as stored (`site` has no API route yet, but shares the mechanism). */
export interface PolicySettings {
  defaults: PolicyOverrides;
  rates: Rate[];
  highRisk: HighRiskList;
  blockedPrefixes: string[];
  site: SiteSettings;
}
export type PolicySettingKey = keyof PolicySettings;

export interface StoredSetting<T> {
  /** Null when the site never set it: the built-in value applies. */
  value: T | null;
  /** Policy version of the setting's last change, 0 if never changed: its ETag. */
  version: number;
}

export interface ImportSummary {
  version: number;
  extensions: number;
  rates: number;
}

export interface HistoryPage {
  limit: number;
  /** Only changes with a smaller id (the previous page's last). */
  beforeId?: number;
}

export interface PolicyChange {
  id: number;
  at: number;
  actor: string;
  subject: string;
  before: unknown;
  after: unknown;
  /** The policy version this change made. */
  version: number;
}
