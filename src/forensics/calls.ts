import type { AuditStore, DecisionRecord } from '../store/roles/audit.js';
import { sourceRangeText } from '../net/address.js';
import type { Takeover } from './takeovers.js';

/** What the guard's audit says a set of calls did: how many, allowed or denied, where to, for how much. */
export interface CallSummary {
  calls: number;
  allowed: number;
  denied: number;
  /** Destination country (`-` when none) → calls. */
  destinations: Record<string, number>;
  /** Allowed calls by destination country. */
  allowedDestinations: Record<string, number>;
  /** Denied calls by the reason code of the check that stopped them. */
  deniedBy: Record<string, number>;
  reservedMicros: number;
  settledMicros: number;
  firstAt: number | null;
  lastAt: number | null;
  /** The latest calls, newest first (at most SAMPLE_CALLS). */
  sample: CallRow[];
}

export interface CallRow {
  callId: string;
  at: number;
  extension: string;
  dialled: string;
  e164: string | null;
  country: string | null;
  source: string | null;
  result: string;
  reason: string;
}

export interface CallsFound {
  /** Every call whose signalling source is an attacking address (or in a network several of them share). */
  fromSources: CallSummary;
  /** Per account taken over: its calls from the moment of the takeover on. */
  byAccount: Array<{ account: string; since: number; summary: CallSummary }>;
  /** Every call above once (a call can be both from an attacking address and of an account taken over). */
  all: CallSummary;
  /** Those calls one by one, newest first, at most CALL_LIST_LIMIT (`listTruncated` beyond): `--json`'s `calls`. */
  list: CallRow[];
  listTruncated: boolean;
}

const SAMPLE_CALLS = 20;
/** Ten thousand calls is weeks of an intruder's traffic; beyond, the counts above still hold them all. */
export const CALL_LIST_LIMIT = 10_000;

export interface CallQuery {
  /** Attacking addresses. */
  addresses: ReadonlySet<string>;
  /** /24 and /64 networks that more than one attacking address came from (an attacker rotating addresses). */
  networks: ReadonlySet<string>;
  takeovers: readonly Takeover[];
  from?: number;
  to?: number;
}

/** Reads the audit once, newest first, a batch at a time; settlements only for the calls found. */
export async function findCalls(audit: AuditStore, query: CallQuery): Promise<CallsFound> {
  const fromSources = emptySummary();
  const all = emptySummary();
  const byAccount = query.takeovers.map((t) => ({ account: t.account, since: t.at, summary: emptySummary() }));
  const accounts = new Map(byAccount.map((a) => [a.account, a]));
  const list: CallRow[] = [];
  let listTruncated = false;
  const filter = { ...(query.from !== undefined ? { from: query.from } : {}), ...(query.to !== undefined ? { to: query.to } : {}) };
  for await (const d of audit.exportDecisions(filter)) {
    const ip = d.source.ip;
    const fromAttacker = ip !== null && (query.addresses.has(ip) || query.networks.has(sourceRangeText(ip)));
    const account = accounts.get(d.extension);
    const afterTakeover = account !== undefined && d.at >= account.since;
    if (!fromAttacker && !afterTakeover) continue;
    const settled = d.result === 'ALLOW' && d.reservedMicros !== null ? await settledCost(audit, d.callId) : 0;
    count(all, d, settled);
    if (list.length < CALL_LIST_LIMIT) list.push(callRow(d));
    else listTruncated = true;
    if (fromAttacker) count(fromSources, d, settled);
    if (afterTakeover) count((account as (typeof byAccount)[number]).summary, d, settled);
  }
  return { fromSources, byAccount, all, list, listTruncated };
}

async function settledCost(audit: AuditStore, callId: string): Promise<number> {
  const settlement = (await audit.listSettlements(callId)).find((s) => s.outcome === 'settled' || s.outcome === 'settled_after_expiry');
  return settlement?.costMicros ?? 0;
}

function emptySummary(): CallSummary {
  return { calls: 0, allowed: 0, denied: 0, destinations: {}, allowedDestinations: {}, deniedBy: {}, reservedMicros: 0, settledMicros: 0, firstAt: null, lastAt: null, sample: [] };
}

function count(s: CallSummary, d: DecisionRecord, settledMicros: number): void {
  s.calls++;
  const country = d.country ?? '-';
  if (d.result === 'ALLOW') {
    s.allowed++;
    s.allowedDestinations[country] = (s.allowedDestinations[country] ?? 0) + 1;
  } else {
    s.denied++;
    s.deniedBy[d.reason] = (s.deniedBy[d.reason] ?? 0) + 1;
  }
  s.destinations[country] = (s.destinations[country] ?? 0) + 1;
  s.reservedMicros += d.reservedMicros ?? 0;
  s.settledMicros += settledMicros;
  s.firstAt = s.firstAt === null ? d.at : Math.min(s.firstAt, d.at);
  s.lastAt = s.lastAt === null ? d.at : Math.max(s.lastAt, d.at);
  if (s.sample.length < SAMPLE_CALLS) s.sample.push(callRow(d));
}

function callRow(d: DecisionRecord): CallRow {
  return { callId: d.callId, at: d.at, extension: d.extension, dialled: d.dialled, e164: d.e164, country: d.country, source: d.source.ip, result: d.result, reason: d.reason };
}
