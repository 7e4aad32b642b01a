/** The API's shapes the dashboard reads (see GET /docs/json for all of them). */

export interface Decision {
  id: string;
  at: string;
  transport: string;
  ext: string;
  dialled: string;
  e164: string | null;
  country: string | null;
  numberType: string | null;
  source: string;
  sourceIp: string | null;
  sourceCountry: string | null;
  result: 'ALLOW' | 'DENY';
  reason: string;
  message: string;
  mode: string;
}

export interface Check {
  name: string;
  outcome: 'pass' | 'fail' | 'skip';
  reason?: string;
  detail: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface Alert {
  id: string;
  lastAt: string;
  kind: string;
  severity: string;
  ext: string | null;
  message: string;
  occurrences: number;
  shadow: boolean;
}

export interface Breaker {
  state: string;
  openedAt: string | null;
  /** The call that opened it. */
  openedBy: { ext: string; callId: string } | null;
  internationalSpendLastHour: number;
  /** null: no site limit. */
  internationalSpendPerHour: number | null;
  currency: string;
}

export interface Lock {
  reason: string;
  at?: string;
  by?: string;
}

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface ExtensionDetail {
  ext: string;
  stored: boolean;
  version: number | null;
  overrides: JsonObject;
  effective: JsonObject;
  lock: Lock | null;
}

export interface ExtensionSummary {
  ext: string;
  stored: boolean;
  version: number | null;
  lock: Lock | null;
}

export interface Usage {
  ext: string;
  currency: string;
  today: { spend: number; spendLimit: number; minutes: number; minutesLimit: number };
  activeCalls: { count: number; limit: number };
}

export interface Change {
  id: number;
  at: string;
  actor: string;
  version: number;
  before: Json;
  after: Json;
}

/** GET /sources/…: what the security events say about who attacks the PBX. */
export interface SourceWindow {
  windowHours: number;
  failureThreshold: number;
}

export interface AttackingSource {
  address: string;
  network: string;
  country: string | null;
  failures: number;
  successes: number;
  accounts: string[];
  firstSeen: string;
  lastSeen: string;
}

export interface CountryFailures {
  country: string | null;
  failures: number;
  sources: number;
}

export interface NewPlace {
  at: string;
  account: string;
  address: string;
  country: string | null;
  newCountry: boolean;
  newAddress: boolean;
}

export interface SuspiciousSource {
  entry: string;
  kind: 'address' | 'network';
  failures: number;
  country: string | null;
}
