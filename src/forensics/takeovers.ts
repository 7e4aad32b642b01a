import type { SecurityEvent } from '../domain/security.js';
import { sourceRangeText } from '../net/address.js';
import { hash53, type AccountFailures, type EvidenceLine, type SourceFailures } from './attempts.js';
import { LogWindows, logOf, StreamCount } from './repeats.js';

/**
 * Successful authentications that look like a break-in, found in a second reading of the logs
 * (the failures of every file are known by then, whatever order the files came in):
 * - `failed_before`: from an address, or its /24 or /64, that failed to authenticate earlier
 *   (the signature of README fact 4: ChallengeResponseFailed then SuccessfulAuth from one address);
 * - `new_country`: from a country that account had not authenticated from before in these logs;
 * - `failed_on_account`: a success whose log line gives no address (`Endpoint 1001 is now
 *   Reachable`, all a verbose-2 channel shows) after failed attempts on that account; used only
 *   when nothing in the logs gives that account's successes an address.
 */
export type TakeoverReason = 'failed_before' | 'network_failed_before' | 'new_country' | 'failed_on_account';

export interface TakeoverSource {
  address: string | null;
  country: string | null;
  reasons: TakeoverReason[];
  /** The first suspicious success from it. */
  at: number;
  successes: number;
  line: EvidenceLine;
}

export interface Takeover {
  account: string;
  service: string;
  /** The first suspicious success: from then on the account is the attacker's. */
  at: number;
  sources: TakeoverSource[];
}

interface CountrySeen {
  at: number;
  address: string;
  service: string;
  line: EvidenceLine;
}

interface Suspect extends TakeoverSource {
  service: string;
  /** Successes as each log tells them (messages, full and security repeat one another). */
  counts: StreamCount;
}

export class TakeoverCollector {
  private readonly byAccount = new Map<string, Map<string | null, Suspect>>();
  private readonly countries = new Map<string, Map<string, CountrySeen>>();
  private readonly addressed = new Set<string>();
  private readonly networks = new Map<string, number>();
  private readonly recent = new LogWindows();

  constructor(
    private readonly sources: ReadonlyMap<string, SourceFailures>,
    private readonly accounts: ReadonlyMap<string, AccountFailures>,
    private readonly countryOf: (address: string) => string | null,
  ) {
    for (const s of sources.values()) this.networks.set(s.network, Math.min(this.networks.get(s.network) ?? Infinity, s.firstAt));
  }

  add(event: SecurityEvent, file: string, text: string): void {
    if (event.kind !== 'successful_auth' || event.account === null) return;
    // One success is one however many lines of a file tell it; the logs each count theirs.
    const key = hash53(`${event.account}|${event.address}|${event.session ?? `${event.detail}|${Math.floor(event.at / 1000)}`}`);
    const log = logOf(file);
    if (!this.recent.first(log, key, event.at)) return;
    const line = { at: event.at, text: `${file}: ${text}`, line: text };
    if (event.address === null) {
      const failed = this.accounts.get(event.account);
      if (failed && failed.firstAt < event.at) this.suspect(event, null, 'failed_on_account', line, log);
      return;
    }
    this.addressed.add(event.account);
    const source = this.sources.get(event.address);
    if (source && source.firstAt < event.at) this.suspect(event, event.address, 'failed_before', line, log);
    else if ((this.networks.get(sourceRangeText(event.address)) ?? Infinity) < event.at) this.suspect(event, event.address, 'network_failed_before', line, log);
    const country = this.countryOf(event.address);
    if (country === null) return;
    let seen = this.countries.get(event.account);
    if (!seen) this.countries.set(event.account, (seen = new Map()));
    const before = seen.get(country);
    if (!before || event.at < before.at) seen.set(country, { at: event.at, address: event.address, service: event.service, line });
  }

  /** Entries held (keys, accounts and their countries, suspects): what the bounded-memory test bounds. */
  retained(): number {
    let n = this.recent.size + this.addressed.size + this.networks.size;
    for (const seen of this.countries.values()) n += 1 + seen.size;
    for (const entries of this.byAccount.values()) n += 1 + entries.size;
    return n;
  }

  /** `log` is the log the success was read from; none for a success judged afterwards (a new country), already counted. */
  private suspect(event: SecurityEvent, address: string | null, reason: TakeoverReason, line: EvidenceLine, log?: string): void {
    const account = event.account as string;
    let entries = this.byAccount.get(account);
    if (!entries) this.byAccount.set(account, (entries = new Map()));
    let entry = entries.get(address);
    if (!entry) {
      entry = { address, country: address === null ? null : this.countryOf(address), reasons: [reason], at: event.at, successes: 1, line, service: event.service, counts: new StreamCount() };
      entries.set(address, entry);
    }
    if (log !== undefined) {
      entry.counts.add(log);
      entry.successes = Math.max(1, entry.counts.value);
    }
    if (!entry.reasons.includes(reason)) entry.reasons.push(reason);
    if (event.at < entry.at) Object.assign(entry, { at: event.at, line });
  }

  /** The accounts taken over (suspected), earliest first. */
  result(): Takeover[] {
    for (const [account, seen] of this.countries) {
      const ordered = [...seen.entries()].sort((a, b) => a[1].at - b[1].at);
      for (const [, later] of ordered.slice(1)) this.suspect({ kind: 'successful_auth', at: later.at, service: later.service, account, address: later.address, detail: '' }, later.address, 'new_country', later.line);
    }
    const takeovers: Takeover[] = [];
    for (const [account, entries] of this.byAccount) {
      const sources = [...entries.values()].filter((e) => e.address !== null || !this.addressed.has(account)).sort((a, b) => a.at - b.at);
      const first = sources[0];
      if (!first) continue;
      takeovers.push({ account, service: first.service, at: first.at, sources: sources.map(({ service: _service, counts: _counts, ...s }) => s) });
    }
    return takeovers.sort((a, b) => a.at - b.at);
  }
}
