import type { SecurityEvent } from '../domain/security.js';
import { sourceRangeText } from '../net/address.js';

/**
 * Failed authentications of a set of logs, by source and by account, in bounded memory.
 *
 * One request leaves several lines (README fact 7: a scanner's REGISTER for a missing account is
 * 3 NOTICEs and 4 security events; full.log repeats messages.log): an ATTEMPT is one request,
 * the failure events that share the source address and the SessionID / Call-ID. Lines without a
 * session (chan_sip, AMI logins) are one attempt per source, service, account and second, so
 * that AMI's two NOTICEs for an unknown user are one attempt, and the same line read from two
 * files is counted once. Keys are kept as 53-bit hashes: a few bytes per attempt.
 */

export interface EvidenceLine {
  at: number;
  /** `file: line`, as read. */
  text: string;
  /** The line alone: the same line in two files (messages and full) is one piece of evidence. */
  line: string;
}

export interface SourceFailures {
  address: string;
  /** `/24` (IPv4) or `/64` (IPv6) around it. */
  network: string;
  attempts: number;
  /** Events behind the attempts (lines counted, several per attempt). */
  events: number;
  services: Set<string>;
  /** Every account named, up to ACCOUNT_NAMES_LIMIT. */
  accounts: Set<string>;
  accountsTruncated: boolean;
  firstAt: number;
  lastAt: number;
  /** Attempts per minute (epoch minute → count), for the peak rate. */
  perMinute: Map<number, number>;
  /** The first two and the last two lines, by time. */
  firstLines: EvidenceLine[];
  lastLines: EvidenceLine[];
}

export interface AccountFailures {
  account: string;
  attempts: number;
  firstAt: number;
  lastAt: number;
  addresses: Set<string>;
}

export const ACCOUNT_NAMES_LIMIT = 1000;
const ADDRESSES_PER_ACCOUNT_LIMIT = 100;
const EVIDENCE_LINES = 2;

export class FailureCollector {
  readonly sources = new Map<string, SourceFailures>();
  readonly accounts = new Map<string, AccountFailures>();
  private readonly seen = new Set<number>();
  private readonly seenPerAccount = new Set<number>();

  add(event: SecurityEvent, file: string, line: string): void {
    if (event.kind !== 'invalid_account' && event.kind !== 'failed_auth') return;
    const key = attemptKey(event);
    const h = hash53(key);
    const isNewAttempt = !this.seen.has(h);
    if (isNewAttempt) this.seen.add(h);
    if (event.address !== null) this.addToSource(event, { at: event.at, text: `${file}: ${line}`, line }, isNewAttempt);
    if (event.account !== null) {
      // An attempt names its account in one of its events only (ChallengeResponseFailed says <unknown>).
      const accountKey = hash53(`${key}|${event.account}`);
      if (this.seenPerAccount.has(accountKey)) return;
      this.seenPerAccount.add(accountKey);
      let a = this.accounts.get(event.account);
      if (!a) {
        a = { account: event.account, attempts: 0, firstAt: event.at, lastAt: event.at, addresses: new Set() };
        this.accounts.set(event.account, a);
      }
      a.attempts++;
      a.firstAt = Math.min(a.firstAt, event.at);
      a.lastAt = Math.max(a.lastAt, event.at);
      if (event.address !== null && a.addresses.size < ADDRESSES_PER_ACCOUNT_LIMIT) a.addresses.add(event.address);
    }
  }

  private addToSource(event: SecurityEvent, evidence: EvidenceLine, isNewAttempt: boolean): void {
    const address = event.address as string;
    let s = this.sources.get(address);
    if (!s) {
      s = {
        address,
        network: sourceRangeText(address),
        attempts: 0,
        events: 0,
        services: new Set(),
        accounts: new Set(),
        accountsTruncated: false,
        firstAt: event.at,
        lastAt: event.at,
        perMinute: new Map(),
        firstLines: [],
        lastLines: [],
      };
      this.sources.set(address, s);
    }
    s.events++;
    if (isNewAttempt) {
      s.attempts++;
      const minute = Math.floor(event.at / 60_000);
      s.perMinute.set(minute, (s.perMinute.get(minute) ?? 0) + 1);
    }
    if (event.service) s.services.add(event.service);
    if (event.account !== null && !s.accounts.has(event.account)) {
      if (s.accounts.size < ACCOUNT_NAMES_LIMIT) s.accounts.add(event.account);
      else s.accountsTruncated = true;
    }
    s.firstAt = Math.min(s.firstAt, event.at);
    s.lastAt = Math.max(s.lastAt, event.at);
    keepEdges(s, evidence);
  }
}

/**
 * AMI's SessionID is a pointer of the connection, and its NOTICE lines have none: an AMI
 * attempt is its address, account and second whichever way it was reported.
 */
export function attemptKey(event: SecurityEvent): string {
  return event.session !== undefined && event.service !== 'AMI'
    ? `s|${event.address}|${event.session}`
    : `t|${event.service}|${event.address}|${event.account}|${Math.floor(event.at / 1000)}`;
}

/** Keeps the earliest and the latest lines: files are read in any order, so by time, not by arrival. */
function keepEdges(s: SourceFailures, line: EvidenceLine): void {
  insertSorted(s.firstLines, line, (a, b) => a.at - b.at);
  insertSorted(s.lastLines, line, (a, b) => b.at - a.at);
}

function insertSorted(list: EvidenceLine[], line: EvidenceLine, order: (a: EvidenceLine, b: EvidenceLine) => number): void {
  if (list.some((l) => l.line === line.line)) return;
  list.push(line);
  list.sort(order);
  if (list.length > EVIDENCE_LINES) list.length = EVIDENCE_LINES;
}

/** The highest number of attempts in one clock minute. */
export function peakPerMinute(s: SourceFailures): number {
  let peak = 0;
  for (const n of s.perMinute.values()) peak = Math.max(peak, n);
  return peak;
}

/** FNV-1a over the UTF-16 units, two lanes combined into 53 bits: collisions are negligible at millions of keys. */
export function hash53(text: string): number {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
  }
  return (h2 >>> 0) * 0x200000 + ((h1 >>> 0) & 0x1fffff);
}
