import type { Logger } from 'pino';
import type { SecurityEventSink, SourceReputation } from '../domain/security.js';
import type { TakeoverStore } from '../store/roles/locks.js';
import { trustedNetworks } from './networks.js';
import { MAX_WINDOW_MS, windowMsOf, type IntrusionPolicy } from './policy.js';
import type { CountrySummary, ReputationTracker, SourceSummary, SuccessObservation, SuspiciousEntry } from './reputation.js';
import { assessTakeover, composeTakeoverEffects, describeTakeover, type TakeoverPolicy } from './takeover.js';

/** What the admin API and the dashboard read: the site policy's window and threshold, applied at `now`. */
export interface SourcesView {
  policy(): Promise<IntrusionPolicy>;
  topSources(limit: number): Promise<SourceSummary[]>;
  countries(): Promise<CountrySummary[]>;
  newPlaces(limit: number): SuccessObservation[];
  suspicious(): Promise<SuspiciousEntry[]>;
}

export interface IntrusionDeps {
  /** The counts: made with the runtime, since the guard reads the same tracker on the decision path. */
  tracker: ReputationTracker;
  store: TakeoverStore;
  /** The takeover policy of account `ext` (the site default with its extension's entry), or the site's (null). */
  policy: (ext: string | null) => Promise<TakeoverPolicy>;
  logger: Logger;
  /** Told each lock a takeover set (dialguard_takeover_locks_total). */
  onTakeoverLock?: () => void;
  /** Wall clock of the queries (the API's "now"); events carry their own time. */
  now?: () => number;
}

export interface Intrusion {
  /** Hand to the security-event feeds. */
  sink: SecurityEventSink;
  /** Hand to the guard: the `source_suspicious` check reads it. */
  reputation: SourceReputation;
  /** Hand to the sources routes. */
  sources: SourcesView;
  /** Resolves when the takeovers being handled are done (locks written, alerts queued). */
  settled(): Promise<void>;
}

/** Takeovers remembered for "once per account per address per window". */
const MAX_HANDLED = 10_000;

/**
 * The source reputation tracker and the takeover lock, wired to the store: each event is
 * counted at once (synchronously); a successful authentication is then judged by the
 * account's policy, and a takeover locks the account and raises an alert in one transaction,
 * off the feed (a slow database never holds the events back). Once per account, address and
 * window: a registered intruder refreshing every few minutes is one alert, not hundreds.
 */
export function createIntrusion(deps: IntrusionDeps): Intrusion {
  const { store, policy, logger } = deps;
  const now = deps.now ?? Date.now;
  const log = logger.child({ component: 'intrusion' });
  const { tracker } = deps;
  const handled = new Map<string, number>();
  const pending = new Set<Promise<void>>();

  const judge = async (success: SuccessObservation, counts: Pick<ReputationTracker, 'standing' | 'accountStanding'>): Promise<void> => {
    const rules = await policy(success.account);
    const windowMs = windowMsOf(rules);
    const finding = assessTakeover(
      success,
      counts.standing(success.address, windowMs, success.at),
      counts.accountStanding(success.account, windowMs, success.at),
      rules,
      trustedNetworks(rules.trustedCidrs),
    );
    if (!finding) return;
    const key = `${finding.account}|${finding.address}`;
    const last = handled.get(key);
    if (last !== undefined && finding.at - last < windowMs) return;
    handled.delete(key);
    handled.set(key, finding.at);
    if (handled.size > MAX_HANDLED) handled.delete(handled.keys().next().value as string);
    const effects = composeTakeoverEffects(finding, rules);
    try {
      const locked = await store.lockTakenOver(finding.account, effects.lock, effects.alert);
      if (locked) deps.onTakeoverLock?.();
      log.warn({ account: finding.account, address: finding.address, country: finding.country, failures: finding.failures, networkFailures: finding.networkFailures, locked }, `takeover: ${describeTakeover(finding)}`);
    } catch (err) {
      // Not handled after all: the account's next success tries again.
      handled.delete(key);
      throw err;
    }
  };

  const sink: SecurityEventSink = {
    accept(event) {
      const success = tracker.record(event);
      if (!success) return;
      // Most successes are phones refreshing their registration from a clean address: no policy read for them.
      const history = tracker.standing(success.address, MAX_WINDOW_MS, success.at);
      if (!success.newCountry && history.failures === 0 && history.networkFailures === 0) return;
      // Taken now: by the time the policy is read, the events after the success may be counted in its minute.
      const work = judge(success, tracker.snapshot(success.address, success.account))
        .catch((err: unknown) => log.error({ err, account: success.account, address: success.address }, 'cannot handle a possible account takeover'))
        .finally(() => pending.delete(work));
      pending.add(work);
    },
  };

  const site = async (): Promise<{ rules: TakeoverPolicy; windowMs: number; at: number }> => {
    const rules = await policy(null);
    return { rules, windowMs: windowMsOf(rules), at: now() };
  };

  const sources: SourcesView = {
    policy: () => policy(null),
    async topSources(limit) {
      const { windowMs, at } = await site();
      return tracker.topSources(windowMs, at, limit);
    },
    async countries() {
      const { windowMs, at } = await site();
      return tracker.countries(windowMs, at);
    },
    newPlaces: (limit) => tracker.newPlaces(limit),
    async suspicious() {
      const { rules, windowMs, at } = await site();
      return tracker.suspicious(rules.failureThreshold, windowMs, at, trustedNetworks(rules.trustedCidrs));
    },
  };

  return {
    sink,
    reputation: tracker,
    sources,
    async settled() {
      while (pending.size > 0) await Promise.all([...pending]);
    },
  };
}
