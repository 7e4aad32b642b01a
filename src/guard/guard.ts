import { getCountryCallingCode, type CountryCode } from 'libphonenumber-js/max';
import { compilePolicy, type CompiledPolicy, type EngineEnv } from '../engine/engine.js';
import type { Decision, DecisionRequest } from '../domain/decision.js';
import type { GeoIp } from '../geo/geoip.js';
import { BUILTIN_HIGH_RISK, type HighRiskList } from '../numbers/high-risk.js';
import { defaultPolicy } from '../policy/defaults.js';
import { mergePolicy } from '../policy/merge.js';
import type { Policy } from '../policy/schema.js';
import type { Rate } from '../domain/rate.js';
import { compileRates, seedRates } from '../rates/rate-table.js';
import type { AuditedDecision, AuthorizeOutcome, AuthorizeTx, SettlementRequest, SettlementResult, Store, StoredPolicySet, Verdict } from '../store/store.js';

export interface GuardOptions {
  store: Store;
  homeCountry: string;
  /** Timezone of the built-in default policy (its schedule and budget periods). */
  timezone: string;
  geoip: GeoIp;
}

/** The site's policy with built-ins applied where the site set nothing. */
export interface ResolvedPolicySet {
  version: number;
  defaults: Policy;
  rates: Rate[];
  highRisk: HighRiskList;
  blockedPrefixes: string[];
  site: StoredPolicySet['site'];
}

export interface Guard {
  /** Decides, reserves and audits in one transaction. */
  authorize(request: DecisionRequest): AuditedDecision;
  /** Several at once in one transaction (group commit); `startedAt` (hrtime) is when each arrived. */
  authorizeBatch(items: ReadonlyArray<{ request: DecisionRequest; startedAt: bigint }>): AuthorizeOutcome[];
  /** Dry run: the same decision, nothing reserved or recorded. */
  check(request: DecisionRequest): Decision;
  settle(settlement: SettlementRequest): SettlementResult;
  /** The secure defaults of the home country, before any site setting. */
  readonly builtinDefaults: Policy;
  resolvePolicySet(stored?: StoredPolicySet): ResolvedPolicySet;
  effectivePolicy(ext: string): Policy;
}

interface Compiled {
  version: number;
  set: ResolvedPolicySet;
  env: EngineEnv;
  /** Keyed by extension; '' is every extension without an entry. */
  policies: Map<string, CompiledPolicy>;
  /**
   * Keyed by the overrides' JSON: a PBX has thousands of extensions but few distinct policies,
   * and each compiled policy holds its own matchers and windows.
   */
  shared: Map<string, CompiledPolicy>;
}

/**
 * The imperative shell around the pure engine: it keeps one compiled policy per extension
 * and policy version, and lets the store run the engine inside its transaction.
 */
export function createGuard(options: GuardOptions): Guard {
  const { store, homeCountry, geoip } = options;
  const builtinDefaults = defaultPolicy({ homeCountry, timezone: options.timezone });
  const builtinRates = seedRates(getCountryCallingCode(homeCountry as CountryCode));
  let compiled: Compiled | null = null;

  const resolvePolicySet = (stored: StoredPolicySet = store.loadPolicySet()): ResolvedPolicySet => ({
    version: stored.version,
    defaults: mergePolicy(builtinDefaults, stored.defaults),
    rates: stored.rates ?? builtinRates,
    highRisk: stored.highRisk ?? BUILTIN_HIGH_RISK,
    blockedPrefixes: stored.blockedPrefixes,
    site: stored.site,
  });

  const compiledSet = (tx: AuthorizeTx): Compiled => {
    if (compiled?.version === tx.version) return compiled;
    const set = resolvePolicySet(tx.loadPolicySet());
    const env: EngineEnv = {
      homeCountry,
      geoip,
      rates: compileRates(set.rates),
      highRisk: set.highRisk,
      blockedPrefixes: set.blockedPrefixes,
      denyUnknownExtensions: set.site.denyUnknownExtensions,
    };
    compiled = { version: tx.version, set, env, policies: new Map(), shared: new Map() };
    return compiled;
  };

  const policyFor = (tx: AuthorizeTx): CompiledPolicy => {
    const c = compiledSet(tx);
    const key = tx.extension ? tx.extension.ext : '';
    let policy = c.policies.get(key);
    if (!policy) {
      const overrides = tx.extension?.overrides ?? {};
      const shape = JSON.stringify(overrides);
      policy = c.shared.get(shape);
      if (!policy) {
        policy = compilePolicy(mergePolicy(c.set.defaults, overrides), c.env, tx.version);
        c.shared.set(shape, policy);
      }
      c.policies.set(key, policy);
    }
    return policy;
  };

  const decide = (request: DecisionRequest, started: bigint) => (tx: AuthorizeTx): Verdict => {
    const policy = policyFor(tx);
    const extension = { known: tx.extension !== null, locked: tx.lock !== null, lockReason: tx.lock?.reason ?? null };
    const usage = tx.usage(policy.timezone);
    const query = policy.fraudQuery(request, extension);
    if (query) {
      const { velocity, breaker } = tx.fraudCounters(query);
      usage.velocity = velocity;
      if (breaker) usage.breaker = breaker;
    }
    const decision = policy.evaluate(request, extension, usage);
    return { decision, latencyUs: Number(process.hrtime.bigint() - started) / 1000, timezone: policy.timezone };
  };

  return {
    authorize: (request) => store.authorize(request, decide(request, process.hrtime.bigint())),
    authorizeBatch: (items) => store.authorizeBatch(items.map(({ request, startedAt }) => ({ request, decide: decide(request, startedAt) }))),
    check: (request) => store.evaluate(request, decide(request, process.hrtime.bigint())),
    settle: (settlement) => store.settle(settlement),
    builtinDefaults,
    resolvePolicySet,
    effectivePolicy(ext) {
      const set = resolvePolicySet();
      const record = store.getExtension(ext);
      return record ? mergePolicy(set.defaults, record.overrides) : set.defaults;
    },
  };
}
