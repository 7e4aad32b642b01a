import { getCountryCallingCode, type CountryCode } from 'libphonenumber-js/max';
import type { Decision, DecisionRequest } from '../domain/decision.js';
import type { Rate } from '../domain/rate.js';
import type { SourceReputation } from '../domain/security.js';
import { compilePolicy, type CompiledPolicy, type EngineEnv } from '../engine/engine.js';
import type { ExtensionState } from '../engine/types.js';
import type { GeoIp } from '../geo/geoip.js';
import { BUILTIN_HIGH_RISK, type HighRiskList } from '../numbers/high-risk.js';
import { defaultPolicy } from '../policy/defaults.js';
import { mergePolicy } from '../policy/merge.js';
import type { Policy } from '../policy/schema.js';
import { compileRates, seedRates } from '../rates/rate-table.js';
import type { AuditedDecision, AuthorizeOutcome, Decider, DecisionStore, ExtensionSnapshot, SettlementRequest, SettlementResult } from '../store/roles/decisions.js';
import type { PolicyStore, StoredPolicySet } from '../store/roles/policies.js';
import { UNKNOWN_REPUTATION } from './reputation.js';

export interface GuardOptions {
  store: DecisionStore & Pick<PolicyStore, 'loadPolicySet' | 'getExtension'>;
  homeCountry: string;
  /** Timezone of the built-in default policy (its schedule and budget periods). */
  timezone: string;
  geoip: GeoIp;
  /** Failed authentications per source, from the security events; without it every source has none. */
  reputation?: SourceReputation;
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
  authorize(request: DecisionRequest): Promise<AuditedDecision>;
  /** Several at once in one transaction (group commit); `startedAt` (hrtime) is when each arrived. */
  authorizeBatch(items: ReadonlyArray<{ request: DecisionRequest; startedAt: bigint }>): Promise<AuthorizeOutcome[]>;
  /** Dry run: the same decision, nothing reserved or recorded. */
  check(request: DecisionRequest): Promise<Decision>;
  settle(settlement: SettlementRequest): Promise<SettlementResult>;
  /** The secure defaults of the home country, before any site setting. */
  readonly builtinDefaults: Policy;
  /** The stored policy with built-ins where the site set nothing. */
  resolvePolicySet(stored: StoredPolicySet): ResolvedPolicySet;
  /** The same, of the policy stored now. */
  policySet(): Promise<ResolvedPolicySet>;
  effectivePolicy(ext: string): Promise<Policy>;
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
  const reputation = options.reputation ?? UNKNOWN_REPUTATION;
  const builtinDefaults = defaultPolicy({ homeCountry, timezone: options.timezone });
  const builtinRates = seedRates(getCountryCallingCode(homeCountry as CountryCode));
  let compiled: Compiled | null = null;

  const resolvePolicySet = (stored: StoredPolicySet): ResolvedPolicySet => ({
    version: stored.version,
    defaults: mergePolicy(builtinDefaults, stored.defaults),
    rates: stored.rates ?? builtinRates,
    highRisk: stored.highRisk ?? BUILTIN_HIGH_RISK,
    blockedPrefixes: stored.blockedPrefixes,
    site: stored.site,
  });

  const compiledSet = (policy: StoredPolicySet): Compiled => {
    if (compiled?.version === policy.version) return compiled;
    const set = resolvePolicySet(policy);
    const env: EngineEnv = {
      homeCountry,
      geoip,
      rates: compileRates(set.rates),
      highRisk: set.highRisk,
      blockedPrefixes: set.blockedPrefixes,
      denyUnknownExtensions: set.site.denyUnknownExtensions,
    };
    compiled = { version: policy.version, set, env, policies: new Map(), shared: new Map() };
    return compiled;
  };

  const policyFor = ({ policy: stored, extension }: ExtensionSnapshot): CompiledPolicy => {
    const c = compiledSet(stored);
    const key = extension ? extension.ext : '';
    let policy = c.policies.get(key);
    if (!policy) {
      const overrides = extension?.overrides ?? {};
      const shape = JSON.stringify(overrides);
      policy = c.shared.get(shape);
      if (!policy) {
        policy = compilePolicy(mergePolicy(c.set.defaults, overrides), c.env, stored.version);
        c.shared.set(shape, policy);
      }
      c.policies.set(key, policy);
    }
    return policy;
  };

  /** The engine's two steps for one request: compile (or reuse) its policy and say what to read, then evaluate. */
  const decider = (request: DecisionRequest, started: bigint): Decider => ({
    plan(snapshot) {
      const policy = policyFor(snapshot);
      const extension: ExtensionState = { known: snapshot.extension !== null, locked: snapshot.lock !== null, lockReason: snapshot.lock?.reason ?? null };
      // Read before the decision, in memory: the engine gets the standing as an input and stays pure.
      const source = policy.reputationQuery(request);
      const shell = { standing: source === null ? null : reputation.standing(source.address, source.windowMs, request.at.getTime()) };
      return {
        timezone: policy.timezone,
        fraud: policy.fraudQuery(request, extension),
        decide: (usage) => ({ decision: policy.evaluate(request, extension, usage, shell), latencyUs: Number(process.hrtime.bigint() - started) / 1000 }),
      };
    },
  });

  const authorizeBatch: Guard['authorizeBatch'] = (items) =>
    store.authorizeBatch(items.map(({ request, startedAt }) => ({ request, decider: decider(request, startedAt) })));

  return {
    async authorize(request) {
      const [outcome] = await authorizeBatch([{ request, startedAt: process.hrtime.bigint() }]);
      if (!outcome?.ok) throw outcome?.error;
      return outcome.decision;
    },
    authorizeBatch,
    check: (request) => store.evaluate(request, decider(request, process.hrtime.bigint())),
    settle: (settlement) => store.settle(settlement),
    builtinDefaults,
    resolvePolicySet,
    policySet: async () => resolvePolicySet(await store.loadPolicySet()),
    async effectivePolicy(ext) {
      const [stored, record] = await Promise.all([store.loadPolicySet(), store.getExtension(ext)]);
      const set = resolvePolicySet(stored);
      return record ? mergePolicy(set.defaults, record.overrides) : set.defaults;
    },
  };
}
