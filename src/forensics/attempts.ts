import type { SecurityEvent } from '../domain/security.js';
import { sourceRangeText } from '../net/address.js';
import { LogWindows, logOf, StreamCount } from './repeats.js';

/**
 * Failed authentications of a set of logs, by source and by account, in bounded memory.
 *
 * One request leaves several lines (README fact 7: a scanner's REGISTER for a missing account is
 * 3 NOTICEs and 4 security events; full.log repeats messages.log): an ATTEMPT is one request,
 * the failure events that share the source address and the SessionID / Call-ID. Lines without a
 * session (chan_sip, AMI logins) are one attempt per source, service, account and second, so
 * that AMI's two NOTICEs for an unknown user are one attempt. Within a log an attempt's key is
 * remembered for a minute of log time only, and the logs given (messages, full, security, each
 * with its rotations) each count their own attempts, the most of them per service being the count
 * (src/forensics/repeats.ts): what is kept grows with the sources, accounts and minutes of the
 * attack, never with the number of lines.
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
  /** The most attempts any one log tells, service by service (messages, full and security tell the same ones). */
  attempts: number;
  attemptCounts: StreamCount;
  /** Events behind the attempts (lines counted, several per attempt). */
  events: number;
  services: Set<string>;
  /** Every account named, up to ACCOUNT_NAMES_LIMIT. */
  accounts: Set<string>;
  accountsTruncated: boolean;
  firstAt: number;
  lastAt: number;
  /** The peak rate as each log tells it. */
  rates: Map<string, MinuteRate>;
  /** The first two and the last two lines, by time. */
  firstLines: EvidenceLine[];
  lastLines: EvidenceLine[];
}

/** Attempts in the clock minute being read and the most in any minute before: a log is read in time order. */
export interface MinuteRate {
  minute: number;
  count: number;
  peak: number;
}

export interface AccountFailures {
  account: string;
  attempts: number;
  attemptCounts: StreamCount;
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
  private readonly recent = new LogWindows();

  /** `file` is the path read: its log (messages, full, security…) is told by its name. */
  add(event: SecurityEvent, file: string, line: string): void {
    if (event.kind !== 'invalid_account' && event.kind !== 'failed_auth') return;
    const key = attemptKey(event);
    const log = logOf(file);
    const isNewAttempt = this.recent.first(log, hash53(key), event.at);
    if (event.address !== null) this.addToSource(event, log, { at: event.at, text: `${file}: ${line}`, line }, isNewAttempt);
    if (event.account !== null) {
      // An attempt names its account in one of its events only (ChallengeResponseFailed says <unknown>).
      if (!this.recent.first(log, hash53(`${key}|${event.account}`), event.at)) return;
      let a = this.accounts.get(event.account);
      if (!a) {
        a = { account: event.account, attempts: 0, attemptCounts: new StreamCount(), firstAt: event.at, lastAt: event.at, addresses: new Set() };
        this.accounts.set(event.account, a);
      }
      a.attemptCounts.add(log, event.service);
      a.attempts = a.attemptCounts.value;
      a.firstAt = Math.min(a.firstAt, event.at);
      a.lastAt = Math.max(a.lastAt, event.at);
      if (event.address !== null && a.addresses.size < ADDRESSES_PER_ACCOUNT_LIMIT) a.addresses.add(event.address);
    }
  }

  /** Entries held (keys, sources, accounts, names, rates): what the bounded-memory test bounds. */
  retained(): number {
    let n = this.recent.size + this.accounts.size;
    for (const a of this.accounts.values()) n += a.addresses.size;
    for (const s of this.sources.values()) {
      n += 1 + s.accounts.size + s.services.size;
      n += s.rates.size;
    }
    return n;
  }

  private addToSource(event: SecurityEvent, log: string, evidence: EvidenceLine, isNewAttempt: boolean): void {
    const address = event.address as string;
    let s = this.sources.get(address);
    if (!s) {
      s = {
        address,
        network: sourceRangeText(address),
        attempts: 0,
        attemptCounts: new StreamCount(),
        events: 0,
        services: new Set(),
        accounts: new Set(),
        accountsTruncated: false,
        firstAt: event.at,
        lastAt: event.at,
        rates: new Map(),
        firstLines: [],
        lastLines: [],
      };
      this.sources.set(address, s);
    }
    s.events++;
    if (isNewAttempt) {
      s.attemptCounts.add(log, event.service);
      s.attempts = s.attemptCounts.value;
      countMinute(s.rates, log, Math.floor(event.at / 60_000));
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

/** A line of another minute closes the one before (lines of two threads a millisecond apart may be one off). */
function countMinute(rates: Map<string, MinuteRate>, log: string, minute: number): void {
  const rate = rates.get(log);
  if (!rate) rates.set(log, { minute, count: 1, peak: 0 });
  else if (rate.minute === minute) rate.count++;
  else Object.assign(rate, { minute, count: 1, peak: Math.max(rate.peak, rate.count) });
}

/** The highest number of attempts in one clock minute, as the log that tells most tells it. */
export function peakPerMinute(s: SourceFailures): number {
  let peak = 0;
  for (const rate of s.rates.values()) peak = Math.max(peak, rate.peak, rate.count);
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
