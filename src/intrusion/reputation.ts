import type { SecurityEvent, SecurityService, SourceReputation, SourceStanding } from '../domain/security.js';
import { formatAddress, formatNetwork, parseAddress, sourceRange, type Address, type Network } from '../net/address.js';
import { MinuteBuckets } from './minute-buckets.js';
import type { TrustedNetworks } from './networks.js';
import { MAX_WINDOW_MS } from './policy.js';

export interface ReputationOptions {
  /** GeoIP country of an address (src/geo), looked up once per source. */
  country: (address: string) => string | null;
  /** Sources (and networks, and accounts) kept at most; the least recently seen is forgotten first. */
  maxSources?: number;
  /**
   * How long the tracker must have known an account's successes before a success from a country
   * never seen for it counts as suspicious: every phone's first registration is "new".
   */
  learningMs?: number;
}

export const DEFAULT_MAX_SOURCES = 100_000;
export const DEFAULT_LEARNING_MS = 24 * 3_600_000;
/**
 * Events of one request share its SessionID (the SIP Call-ID) and arrive within milliseconds:
 * a REGISTER to a missing account is InvalidAccountID, ChallengeSent, InvalidAccountID,
 * ChallengeResponseFailed (shared/asterisk/security, fact 7). A phone retrying a wrong
 * password reuses its Call-ID, but tens of seconds apart: each retry is an attempt.
 */
export const SESSION_DEDUPE_MS = 10_000;
/** Accounts listed per source; past it the source is reported as having tried at least that many. */
export const MAX_ACCOUNTS_LISTED = 50;
/** Countries and addresses remembered per account. */
const MAX_PLACES_PER_ACCOUNT = 32;
/** Successes from new places kept for the dashboard. */
const MAX_NEW_PLACES = 200;
const MAX_SESSIONS = 10_000;

/** A successful authentication as the tracker saw it, for the takeover lock and the dashboard. */
export interface SuccessObservation {
  at: number;
  account: string;
  address: string;
  network: string;
  country: string | null;
  service: SecurityService;
  /** A country never seen for the account, once its learning period is over. */
  newCountry: boolean;
  /** An address never seen for the account (its very first success excepted). */
  newAddress: boolean;
}

export interface SourceSummary {
  address: string;
  network: string;
  country: string | null;
  failures: number;
  successes: number;
  /** Accounts tried, at most MAX_ACCOUNTS_LISTED (in the order first tried). */
  accounts: string[];
  firstSeen: number;
  lastSeen: number;
}

export interface CountrySummary {
  /** Null: GeoIP does not place the addresses (private, loopback, unlisted). */
  country: string | null;
  failures: number;
  sources: number;
}

export interface SuspiciousEntry {
  /** An address, or a /24 or /64 when the network as a whole passes the threshold. */
  entry: string;
  kind: 'address' | 'network';
  failures: number;
  country: string | null;
}

interface SourceEntry {
  address: string;
  parsed: Address;
  network: string;
  country: string | null;
  firstSeen: number;
  lastSeen: number;
  failures: MinuteBuckets;
  successes: MinuteBuckets;
  accounts: Set<string>;
}

interface NetworkEntry {
  range: Network;
  failures: MinuteBuckets;
  /** The country of the first address seen in it: what the list shows for the range. */
  country: string | null;
}

interface AccountEntry {
  firstSuccess: number | null;
  failures: MinuteBuckets;
  successes: MinuteBuckets;
  countries: Set<string>;
  addresses: Set<string>;
}

interface SessionEntry {
  at: number;
  /** The account has been counted for this attempt (the first event may name none). */
  account: boolean;
}

const isFailure = (event: SecurityEvent): boolean => event.kind === 'invalid_account' || event.kind === 'failed_auth';

/** Re-inserting moves a key to the end of a Map: the first key is then the least recently seen. */
function touch<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > max) map.delete(map.keys().next().value as K);
}

function addBounded(set: Set<string>, value: string, max: number): boolean {
  if (set.has(value) || set.size >= max) return false;
  set.add(value);
  return true;
}

/**
 * Per source address, per /24 or /64 and per account: sliding-window counts of failed and
 * successful authentications, counted per attempt (events of one session count once), in
 * bounded memory (maxSources of each; per-minute buckets kept at most MAX_WINDOW_MS). Time is the
 * events' own (`at`): the tracker never reads a clock, so replaying a log gives the same counts.
 * `standing` is synchronous and in memory: the engine asks it on the decision path.
 */
export class ReputationTracker implements SourceReputation {
  private readonly sources = new Map<string, SourceEntry>();
  private readonly networks = new Map<string, NetworkEntry>();
  private readonly accounts = new Map<string, AccountEntry>();
  private readonly sessions = new Map<string, SessionEntry>();
  private readonly places: SuccessObservation[] = [];
  private readonly max: number;
  private readonly learningMs: number;

  constructor(private readonly options: ReputationOptions) {
    this.max = options.maxSources ?? DEFAULT_MAX_SOURCES;
    this.learningMs = options.learningMs ?? DEFAULT_LEARNING_MS;
  }

  /** Counts one event; a counted successful authentication is returned for the takeover lock. */
  record(event: SecurityEvent): SuccessObservation | null {
    if (!isFailure(event) && event.kind !== 'successful_auth') return null;
    const parsed = event.address === null ? null : parseAddress(event.address);
    const address = parsed === null ? null : formatAddress(parsed);
    const { attempt, account } = this.dedupe(event, address);
    if (!attempt && !account) return null;

    const source = parsed === null || address === null ? null : this.source(parsed, address, event.at);
    if (isFailure(event)) {
      if (attempt && source) {
        source.failures.add(event.at);
        this.network(source).failures.add(event.at);
      }
      if (account && event.account !== null) {
        if (source) addBounded(source.accounts, event.account, MAX_ACCOUNTS_LISTED);
        this.account(event.account).failures.add(event.at);
      }
      return null;
    }
    if (!attempt || event.account === null) return null;
    const entry = this.account(event.account);
    entry.successes.add(event.at);
    if (!source) return null;
    source.successes.add(event.at);
    return this.observeSuccess(event, entry, source);
  }

  standing(address: string, windowMs: number, at: number): SourceStanding {
    const parsed = parseAddress(address);
    if (parsed === null) return { address, failures: 0, network: '', networkFailures: 0 };
    const network = formatNetwork(sourceRange(parsed));
    const window = Math.min(windowMs, MAX_WINDOW_MS);
    return {
      address: formatAddress(parsed),
      failures: this.sources.get(formatAddress(parsed))?.failures.sum(window, at) ?? 0,
      network,
      networkFailures: this.networks.get(network)?.failures.sum(window, at) ?? 0,
    };
  }

  /**
   * The counts of an address (and its network) and of an account as they are now, to be read
   * later over any window: what the takeover lock judges a success by, after its policy read,
   * when the events that followed the success may already be counted in the same minutes.
   */
  snapshot(address: string, account: string): Pick<ReputationTracker, 'standing' | 'accountStanding'> {
    const copy = new ReputationTracker(this.options);
    const parsed = parseAddress(address);
    const source = parsed === null ? undefined : this.sources.get(formatAddress(parsed));
    if (source) {
      copy.sources.set(source.address, { ...source, failures: source.failures.clone(), successes: source.successes.clone() });
      const network = this.networks.get(source.network);
      if (network) copy.networks.set(source.network, { ...network, failures: network.failures.clone() });
    }
    const entry = this.accounts.get(account);
    if (entry) copy.accounts.set(account, { ...entry, failures: entry.failures.clone(), successes: entry.successes.clone() });
    return copy;
  }

  /** An account's failed and successful authentications in the window, from anywhere. */
  accountStanding(account: string, windowMs: number, at: number): { failures: number; successes: number } {
    const entry = this.accounts.get(account);
    const window = Math.min(windowMs, MAX_WINDOW_MS);
    return { failures: entry?.failures.sum(window, at) ?? 0, successes: entry?.successes.sum(window, at) ?? 0 };
  }

  /** The sources with the most failures in the window, most first. */
  topSources(windowMs: number, at: number, limit: number): SourceSummary[] {
    const rows: SourceSummary[] = [];
    for (const s of this.sources.values()) {
      const failures = s.failures.sum(windowMs, at);
      if (failures === 0) continue;
      rows.push({
        address: s.address,
        network: s.network,
        country: s.country,
        failures,
        successes: s.successes.sum(windowMs, at),
        accounts: [...s.accounts],
        firstSeen: s.firstSeen,
        lastSeen: s.lastSeen,
      });
    }
    return rows.sort((a, b) => b.failures - a.failures || b.lastSeen - a.lastSeen).slice(0, limit);
  }

  /** Failures in the window by the sources' country, most first. */
  countries(windowMs: number, at: number): CountrySummary[] {
    const by = new Map<string | null, CountrySummary>();
    for (const s of this.sources.values()) {
      const failures = s.failures.sum(windowMs, at);
      if (failures === 0) continue;
      const row = by.get(s.country) ?? { country: s.country, failures: 0, sources: 0 };
      row.failures += failures;
      row.sources += 1;
      by.set(s.country, row);
    }
    return [...by.values()].sort((a, b) => b.failures - a.failures);
  }

  /** Successful authentications from an address or country new for their account, newest first. */
  newPlaces(limit: number): SuccessObservation[] {
    return this.places.slice(-limit).reverse();
  }

  /**
   * What a firewall should drop: each address whose failures in the window reach the threshold,
   * and each /24 or /64 whose other addresses' failures together reach it (an attacker rotating
   * addresses; one noisy address does not put its 255 neighbours on the list). Trusted networks
   * never, nor a range holding one. Ranges first, then addresses, each by failures.
   */
  suspicious(threshold: number, windowMs: number, at: number, trusted: TrustedNetworks): SuspiciousEntry[] {
    if (threshold <= 0) return [];
    const alone: Array<{ source: SourceEntry; failures: number }> = [];
    const rest = new Map<string, number>();
    for (const source of this.sources.values()) {
      const failures = source.failures.sum(windowMs, at);
      if (failures === 0 || trusted.holds(source.parsed)) continue;
      if (failures >= threshold) alone.push({ source, failures });
      else rest.set(source.network, (rest.get(source.network) ?? 0) + failures);
    }
    const networks: SuspiciousEntry[] = [];
    for (const [network, failures] of rest) {
      const entry = this.networks.get(network);
      if (failures < threshold || !entry || trusted.overlaps(entry.range)) continue;
      networks.push({ entry: network, kind: 'network', failures: entry.failures.sum(windowMs, at), country: entry.country });
    }
    const listed = new Set(networks.map((n) => n.entry));
    const addresses = alone
      .filter(({ source }) => !listed.has(source.network))
      .map(({ source, failures }): SuspiciousEntry => ({ entry: source.address, kind: 'address', failures, country: source.country }));
    const byFailures = (a: SuspiciousEntry, b: SuspiciousEntry): number => b.failures - a.failures;
    return [...networks.sort(byFailures), ...addresses.sort(byFailures)];
  }

  /**
   * Whether the event is a new attempt (not another event of one already counted) and whether
   * it brings the attempt's account (an unknown account is named only by InvalidAccountID).
   */
  private dedupe(event: SecurityEvent, address: string | null): { attempt: boolean; account: boolean } {
    const named = event.account !== null;
    if (event.session === undefined) return { attempt: true, account: named };
    this.forgetSessions(event.at);
    const key = `${isFailure(event) ? 'f' : 's'}|${address ?? ''}|${event.session}`;
    const seen = this.sessions.get(key);
    if (seen && event.at - seen.at < SESSION_DEDUPE_MS) {
      const account = named && !seen.account;
      if (account) seen.account = true;
      return { attempt: false, account };
    }
    touch(this.sessions, key, { at: event.at, account: named }, MAX_SESSIONS);
    return { attempt: true, account: named };
  }

  private forgetSessions(at: number): void {
    for (const [key, entry] of this.sessions) {
      if (at - entry.at < SESSION_DEDUPE_MS) break;
      this.sessions.delete(key);
    }
  }

  private source(parsed: Address, address: string, at: number): SourceEntry {
    let entry = this.sources.get(address);
    if (!entry) {
      entry = {
        address,
        parsed,
        network: formatNetwork(sourceRange(parsed)),
        country: this.options.country(address),
        firstSeen: at,
        lastSeen: at,
        failures: new MinuteBuckets(MAX_WINDOW_MS),
        successes: new MinuteBuckets(MAX_WINDOW_MS),
        accounts: new Set(),
      };
    }
    entry.firstSeen = Math.min(entry.firstSeen, at);
    entry.lastSeen = Math.max(entry.lastSeen, at);
    touch(this.sources, address, entry, this.max);
    return entry;
  }

  private network(source: SourceEntry): NetworkEntry {
    const entry = this.networks.get(source.network) ?? { range: sourceRange(source.parsed), failures: new MinuteBuckets(MAX_WINDOW_MS), country: source.country };
    touch(this.networks, source.network, entry, this.max);
    return entry;
  }

  private account(account: string): AccountEntry {
    const entry = this.accounts.get(account) ?? {
      firstSuccess: null,
      failures: new MinuteBuckets(MAX_WINDOW_MS),
      successes: new MinuteBuckets(MAX_WINDOW_MS),
      countries: new Set<string>(),
      addresses: new Set<string>(),
    };
    touch(this.accounts, account, entry, this.max);
    return entry;
  }

  private observeSuccess(event: SecurityEvent, account: AccountEntry, source: SourceEntry): SuccessObservation {
    const known = account.firstSuccess !== null;
    const learnt = known && event.at - (account.firstSuccess as number) >= this.learningMs;
    const newCountry = learnt && source.country !== null && !account.countries.has(source.country);
    const newAddress = known && !account.addresses.has(source.address);
    account.firstSuccess ??= event.at;
    if (source.country !== null) addBounded(account.countries, source.country, MAX_PLACES_PER_ACCOUNT);
    addBounded(account.addresses, source.address, MAX_PLACES_PER_ACCOUNT);
    const observation: SuccessObservation = {
      at: event.at,
      account: event.account as string,
      address: source.address,
      network: source.network,
      country: source.country,
      service: event.service,
      newCountry,
      newAddress,
    };
    if (newCountry || newAddress) {
      this.places.push(observation);
      if (this.places.length > MAX_NEW_PLACES) this.places.shift();
    }
    return observation;
  }
}
