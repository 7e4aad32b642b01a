import type { CallRow, CallSummary } from './calls.js';
import type { AttackingNetwork, FileReport, ForensicsReport } from './report.js';
import type { TakeoverSource } from './takeovers.js';

/**
 * `dialguard forensics --json`: the report as one document for tools, under the names
 * shared/design.md fixes (`sources` with `failures`/`first`/`last`, `takeovers` with
 * `address`/`evidence`, `calls` one row per audited call, `advice`), times ISO 8601 UTC,
 * money in micro-units. The text report renders the same ForensicsReport.
 */
export interface ForensicsDocument {
  since: string | null;
  until: string | null;
  files: FileReport[];
  audit: string;
  totals: ForensicsReport['totals'];
  sources: DocumentSource[];
  networks: Array<Omit<AttackingNetwork, 'firstSeen' | 'lastSeen'> & { first: string; last: string }>;
  takeovers: DocumentTakeover[];
  /** Null when no audit was read. */
  calls: DocumentCall[] | null;
  /** More calls were found than listed (the summaries count them all). */
  callsTruncated: boolean;
  /** The counts behind "what they did next"; null when no audit was read. */
  callSummary: {
    fromSources: DocumentSummary;
    byAccount: Array<{ account: string; since: string; summary: DocumentSummary }>;
    all: DocumentSummary;
  } | null;
  advice: string[];
}

export interface DocumentSource {
  address: string;
  country: string | null;
  network: string;
  /** Failed attempts (one per request, however many lines it left). */
  failures: number;
  services: string[];
  accounts: string[];
  accountsTried: number;
  accountsTruncated: boolean;
  first: string;
  last: string;
  peakPerMinute: number;
  evidence: string[];
}

export interface DocumentTakeover {
  account: string;
  service: string;
  /** The first suspicious success's address; null when the log line gave none. */
  address: string | null;
  at: string;
  /** The failures of that address that made it suspicious, then each suspicious success line. */
  evidence: string[];
  sources: Array<Omit<TakeoverSource, 'at' | 'line'> & { at: string; line: string }>;
}

export interface DocumentCall {
  id: string;
  at: string;
  ext: string;
  dialled: string;
  e164: string | null;
  country: string | null;
  result: string;
  reason: string;
  source: string | null;
}

export type DocumentSummary = Omit<CallSummary, 'sample' | 'firstAt' | 'lastAt'> & { first: string | null; last: string | null };

const iso = (ms: number): string => new Date(ms).toISOString();
const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));

export function forensicsDocument(report: ForensicsReport): ForensicsDocument {
  const failureLines = new Map(report.sources.map((s) => [s.address, s.evidence]));
  return {
    since: isoOrNull(report.since),
    until: isoOrNull(report.until),
    files: report.files,
    audit: report.audit,
    totals: report.totals,
    sources: report.sources.map(({ attempts, firstSeen, lastSeen, ...s }) => ({ ...s, failures: attempts, first: iso(firstSeen), last: iso(lastSeen) })),
    networks: report.networks.map(({ firstSeen, lastSeen, ...n }) => ({ ...n, first: iso(firstSeen), last: iso(lastSeen) })),
    takeovers: report.takeovers.map((t) => ({
      account: t.account,
      service: t.service,
      address: t.sources[0]?.address ?? null,
      at: iso(t.at),
      evidence: [...new Set(t.sources.flatMap((s) => [...(s.address === null ? [] : (failureLines.get(s.address) ?? [])), s.line.text]))],
      sources: t.sources.map((s) => ({ ...s, at: iso(s.at), line: s.line.text })),
    })),
    calls: report.calls === null ? null : report.calls.list.map(documentCall),
    callsTruncated: report.calls?.listTruncated ?? false,
    callSummary:
      report.calls === null
        ? null
        : {
            fromSources: documentSummary(report.calls.fromSources),
            byAccount: report.calls.byAccount.map((a) => ({ account: a.account, since: iso(a.since), summary: documentSummary(a.summary) })),
            all: documentSummary(report.calls.all),
          },
    advice: report.actions,
  };
}

function documentCall(c: CallRow): DocumentCall {
  return { id: c.callId, at: iso(c.at), ext: c.extension, dialled: c.dialled, e164: c.e164, country: c.country, result: c.result, reason: c.reason, source: c.source };
}

function documentSummary({ sample: _sample, firstAt, lastAt, ...s }: CallSummary): DocumentSummary {
  return { ...s, first: isoOrNull(firstAt), last: isoOrNull(lastAt) };
}
