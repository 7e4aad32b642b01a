import type { SourceStanding } from '../domain/security.js';
import { FRAUD_ACTOR, type AlertDraft } from '../fraud/effects.js';
import { parseAddress } from '../net/address.js';
import type { TrustedNetworks } from './networks.js';
import { windowMsOf, type IntrusionPolicy } from './policy.js';
import type { SuccessObservation } from './reputation.js';

/** The policy a takeover of one account is judged by: its `intrusion` section and its mode. */
export interface TakeoverPolicy extends IntrusionPolicy {
  /** Shadow mode: alert, never lock. */
  shadow: boolean;
}

/** An account that authenticated from where it should not have. */
export interface TakeoverFinding {
  at: number;
  account: string;
  address: string;
  network: string;
  country: string | null;
  /** Failures from the address, and from its network, in the window before the success. */
  failures: number;
  networkFailures: number;
  /** The account's failures (from every address) and successes in the window, this one included. */
  accountFailures: number;
  accountSuccesses: number;
  /** The country is one the account never authenticated from. */
  newCountry: boolean;
  threshold: number;
  windowMs: number;
}

/**
 * Accounts of the services that place calls. An AMI login is not an extension: failing AMI
 * logins are counted against their source, but an AMI success locks nothing.
 */
const CALLING_SERVICES = new Set(['PJSIP', 'SIP', 'IAX2']);

/**
 * A success is a takeover when its address or network had at least `failureThreshold` failed
 * authentications in the window (the brute force then the break-in, fact 4 of the captures), or
 * when it comes from a country never seen for the account after its learning period; never from
 * a trusted network. Pure: the standing is read at the success's own time.
 */
export function assessTakeover(
  success: SuccessObservation,
  standing: SourceStanding,
  account: { failures: number; successes: number },
  policy: TakeoverPolicy,
  trusted: TrustedNetworks,
): TakeoverFinding | null {
  if (!CALLING_SERVICES.has(success.service)) return null;
  const parsed = parseAddress(success.address);
  if (parsed === null || trusted.holds(parsed)) return null;
  const threshold = policy.failureThreshold;
  const hammered = threshold > 0 && (standing.failures >= threshold || standing.networkFailures >= threshold);
  if (!hammered && !success.newCountry) return null;
  return {
    at: success.at,
    account: success.account,
    address: success.address,
    network: standing.network,
    country: success.country,
    failures: standing.failures,
    networkFailures: standing.networkFailures,
    accountFailures: account.failures,
    accountSuccesses: account.successes,
    newCountry: success.newCountry,
    threshold,
    windowMs: windowMsOf(policy),
  };
}

/** What a takeover does: the lock (when the policy locks and enforces) and the alert naming the address, its failures and its country. */
export interface TakeoverEffects {
  lock: { reason: string; actor: string } | null;
  alert: AlertDraft;
}

export function describeTakeover(f: TakeoverFinding): string {
  const hours = f.windowMs / 3_600_000;
  const where = `${f.address} (${f.country ?? 'country unknown'})`;
  const history =
    f.networkFailures > f.failures
      ? `${f.failures} failed authentications from it and ${f.networkFailures} from ${f.network} in the last ${hours} h`
      : `${f.failures} failed authentications from it in the last ${hours} h`;
  return `account ${f.account} authenticated from ${where} after ${history}${f.newCountry ? `; ${f.country} is a country never seen for this account` : ''}`;
}

export function composeTakeoverEffects(f: TakeoverFinding, policy: TakeoverPolicy): TakeoverEffects {
  const locking = policy.lockOnTakeover && !policy.shadow;
  const what = describeTakeover(f);
  const message = locking
    ? `Extension ${f.account} locked until an admin unlocks it: ${what}`
    : `${policy.shadow ? '[shadow mode, nothing enforced] ' : ''}Extension ${f.account} may be taken over: ${what}`;
  return {
    lock: locking ? { reason: `taken over: ${what}`, actor: FRAUD_ACTOR } : null,
    alert: {
      at: f.at,
      kind: locking ? 'lock' : 'breach',
      severity: 'error',
      ext: f.account,
      check: 'takeover',
      counter: f.newCountry && f.failures < f.threshold && f.networkFailures < f.threshold ? 'newCountry' : 'sourceFailures',
      message,
      shadow: policy.shadow,
      decisionId: null,
      dedupKey: ['takeover', f.account, f.address].join(':'),
      dedupWindowMs: f.windowMs,
      details: {
        count: Math.max(f.failures, f.networkFailures),
        limit: f.threshold,
        windowSeconds: f.windowMs / 1000,
        country: f.country,
        counts: { sourceFailures: f.failures, networkFailures: f.networkFailures, accountFailures: f.accountFailures, accountSuccesses: f.accountSuccesses },
        thresholds: { failureThreshold: f.threshold, windowHours: f.windowMs / 3_600_000, lockOnTakeover: policy.lockOnTakeover },
        locked: locking,
      },
      // Taken over between calls: there is no call of the account to list yet.
      calls: { withinMs: 0 },
    },
  };
}
