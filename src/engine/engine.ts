import type { GeoIp } from '../geo/geoip.js';
import { parseSource } from '../geo/source.js';
import type { EffectivePolicy } from '../policy/schema.js';
import { emergencyNumbers } from '../numbers/emergency.js';
import { normalizeCached } from '../numbers/normalize-cache.js';
import type { HighRiskList } from '../numbers/high-risk.js';
import { costMicros, type RateTable } from '../rates/rate-table.js';
import { compileBudget, type BudgetCheck } from './checks/budget.js';
import type { Check, CheckContext } from './checks/check.js';
import { skip } from './checks/check.js';
import { compileCircuitBreaker } from './checks/circuit-breaker.js';
import { compileDestinationCheck } from './checks/destination.js';
import { compileDestinationSpread } from './checks/destination-spread.js';
import { compileEmergencyCheck } from './checks/emergency.js';
import { compileExtensionCheck } from './checks/extension.js';
import { compileGeofence, resolveSource } from './checks/geofence.js';
import { DAY_MS } from '../domain/windows.js';
import { compileNovelty } from './checks/novelty.js';
import { numberCheck } from './checks/number.js';
import { compileSchedule } from './checks/schedule.js';
import { compileSourceConcurrency } from './checks/source-concurrency.js';
import { compileVelocity, type AttemptFacts, type FraudCheckResult } from './checks/velocity.js';
import { compileVoicemail } from './checks/voicemail.js';
import { allowMessage, denialMessage, destinationName } from './messages.js';
import type { CheckName, CheckOutcome, Decision, DecisionRequest, Grant } from '../domain/decision.js';
import type { ExtensionState } from './types.js';
import type { FraudQuery, FraudSignals } from '../domain/fraud.js';
import type { UsageSnapshot } from '../domain/usage.js';

/** Site-wide inputs of the engine: loaded by the shell, read-only here. */
export interface EngineEnv {
  homeCountry: string;
  geoip: GeoIp;
  rates: RateTable;
  highRisk: HighRiskList;
  blockedPrefixes: readonly string[];
  denyUnknownExtensions: boolean;
}

/** ISO 3166-1 has fewer codes than this: new countries in an hour never count past it. */
const COUNTRY_CODES = 300;

/** An emergency call is never cut by a budget; four hours bounds a line left off-hook. */
export const EMERGENCY_LIMIT_SECONDS = 4 * 3600;

/** One extension's effective policy, compiled once per policy version. */
export interface CompiledPolicy {
  readonly policy: EffectivePolicy;
  readonly version: number;
  readonly timezone: string;
  /** What the store must read for the fraud checks of this request; null when nothing counts (emergency, an extension that may not call). */
  fraudQuery(request: DecisionRequest, extension: ExtensionState): FraudQuery | null;
  evaluate(request: DecisionRequest, extension: ExtensionState, usage: UsageSnapshot): Decision;
}

const notCounted = (name: CheckName): FraudCheckResult => ({ outcome: skip(name, 'not counted: the extension may not call'), findings: [], counts: {} });

export function compilePolicy(policy: EffectivePolicy, env: EngineEnv, version: number): CompiledPolicy {
  const emergency = compileEmergencyCheck(env.homeCountry);
  // Policy checks in order of precedence (the first failure names the reason); the fraud checks
  // and the budget are placed around them in `outcomes` below.
  const checks: ReadonlyArray<readonly [CheckName, Check]> = [
    ['extension', compileExtensionCheck(policy.enabled, env.denyUnknownExtensions)],
    ['number', numberCheck],
    ['destination', compileDestinationCheck(policy.destinations, { highRisk: env.highRisk, blockedPrefixes: env.blockedPrefixes })],
    ['voicemail', compileVoicemail(policy.voicemailCallout)],
    ['schedule', compileSchedule(policy.schedule)],
    ['geofence', compileGeofence(policy.geofence)],
  ];
  const budget: BudgetCheck = compileBudget(policy.budget, env.rates);
  const [first, ...rest] = checks.map(([name]) => name);
  // Every check but emergency, in the order the audit lists them (see `outcomes` below).
  const checkOrder: CheckName[] = [first as CheckName, 'velocity', 'novelty', ...rest, 'source_concurrency', 'destination_spread', 'budget', 'circuit_breaker'];
  const velocity = compileVelocity(policy.velocity);
  const novelty = compileNovelty(policy.velocity);
  const breaker = compileCircuitBreaker(policy.budget.currency);
  const sourceConcurrency = compileSourceConcurrency(policy.sources);
  const spread = compileDestinationSpread(policy.spread);
  const shadow = policy.mode === 'shadow';
  const numbering = { homeCountry: env.homeCountry, accessPrefix: policy.numbering.accessPrefix };
  const emergencySet = emergencyNumbers(env.homeCountry);
  const { velocity: limits } = policy;
  const noveltyMs = limits.noveltyDays === null ? null : limits.noveltyDays * DAY_MS;
  const caps: FraudQuery['caps'] = {
    placedPerMinute: limits.maxAttemptsPerMinute,
    internationalPerHour: limits.maxInternationalPerHour,
    destinationsPerHour: limits.maxDistinctDestinationsPerHour,
    deniedPerHour: limits.maxDeniedPerHour,
    // Without a limit the count is still reported, and a country list bounds it.
    newCountriesPerHour: limits.noveltyDays === null ? null : (limits.maxNewCountriesPerHour ?? COUNTRY_CODES),
  };
  const thresholds: FraudSignals['thresholds'] = { ...limits };
  /** Shadow mode never shortens a call for a budget: it gets maxCallSeconds, reserved at its rate. */
  const shadowGrant = (e164: string | null): Grant | null => {
    if (!e164) return null;
    const rate = env.rates.rateFor(e164);
    return { seconds: policy.budget.maxCallSeconds, costMicros: costMicros(rate, policy.budget.maxCallSeconds), rate };
  };

  return {
    policy,
    version,
    timezone: policy.schedule.timezone,
    fraudQuery(request, extension) {
      // The extension check's conditions: an attempt that check denies is not counted.
      if (extension.locked || !policy.enabled || (!extension.known && env.denyUnknownExtensions)) return null;
      const number = normalizeCached(request.dialled, numbering);
      if (emergencySet.has(number.digits)) return null;
      const query: FraudQuery = {
        destination: number.e164 ?? number.digits,
        country: number.international ? number.country : null,
        breaker: number.international,
        noveltyMs,
        caps,
      };
      const site = { source: sourceConcurrency.query(parseSource(request.source)), spread: spread.query(number) };
      return site.source || site.spread ? { ...query, site } : query;
    },
    evaluate(request, extension, usage) {
      const ctx: CheckContext = {
        request,
        number: normalizeCached(request.dialled, numbering),
        source: resolveSource(request.source, env.geoip),
        extension,
        usage,
        homeCountry: env.homeCountry,
      };
      const { number } = ctx;
      const base = { e164: number.e164, country: number.country, numberType: number.type, source: ctx.source, policyVersion: version };
      const destination = destinationName(number);

      const emergencyOutcome = emergency(ctx);
      if (emergencyOutcome.outcome === 'pass') {
        return {
          ...base,
          result: 'ALLOW',
          reason: 'emergency',
          message: `Emergency call to ${number.digits} allowed`,
          limitMs: EMERGENCY_LIMIT_SECONDS * 1000,
          checks: [emergencyOutcome, ...checkOrder.map((name) => skip(name, 'emergency numbers are always allowed'))],
          grant: null,
        };
      }

      const [extensionOutcome, ...policyOutcomes] = checks.map(([, check]) => check(ctx)) as [CheckOutcome, ...CheckOutcome[]];
      const counted = extensionOutcome.outcome !== 'fail';
      const policyFailure = policyOutcomes.find((o) => o.outcome === 'fail');
      // Site-wide limits: after the policy (a call it denies says why), before the budget (a call they deny reserves nothing).
      const sourceOutcome = counted ? sourceConcurrency.check(ctx) : notCounted('source_concurrency').outcome;
      const spreadResult = counted ? spread.check(ctx) : notCounted('destination_spread');
      const siteFailure = [sourceOutcome, spreadResult.outcome].find((o) => o.outcome === 'fail');
      const firstFailure = counted ? (policyFailure ?? siteFailure) : extensionOutcome;
      // Budget only when everything else passed (it prices what the store reserves); in shadow mode always, for the audit.
      const budgetResult = firstFailure && !shadow ? null : budget(ctx);
      const budgetFailed = budgetResult?.outcome.outcome === 'fail';
      const facts: AttemptFacts = { wouldPlace: !firstFailure && !budgetFailed && !breaker.isOpen(ctx), policyDenied: counted && policyFailure !== undefined };
      const velocityResult = counted ? velocity(ctx, facts) : notCounted('velocity');
      const noveltyResult = counted ? novelty(ctx, facts) : { ...notCounted('novelty'), novel: false };
      const fraudDenied = velocityResult.outcome.outcome === 'fail' || noveltyResult.outcome.outcome === 'fail';
      const breakerResult = breaker.check(ctx, facts.wouldPlace && !fraudDenied ? (budgetResult?.grant ?? null) : null);

      // In order of precedence: the first failure names the reason. Velocity and novelty come
      // right after the extension, so that a breach (which may lock the extension) says so.
      const outcomes: CheckOutcome[] = [
        emergencyOutcome,
        extensionOutcome,
        velocityResult.outcome,
        noveltyResult.outcome,
        ...policyOutcomes,
        sourceOutcome,
        spreadResult.outcome,
        budgetResult ? budgetResult.outcome : skip('budget', 'not reached: an earlier check denied the call'),
        breakerResult.outcome,
      ];
      const failure = outcomes.find((o) => o.outcome === 'fail');
      const grant = failure ? null : (budgetResult?.grant ?? null);
      const seconds = grant?.seconds ?? policy.budget.maxCallSeconds;
      const enforced: Decision = failure?.reason
        ? { ...base, result: 'DENY', reason: failure.reason, message: denialMessage(failure.reason, destination), limitMs: 0, checks: outcomes, grant: null }
        : { ...base, result: 'ALLOW', reason: 'allowed', message: allowMessage(destination, seconds), limitMs: seconds * 1000, checks: outcomes, grant };

      const placed = counted && !failure;
      const breaches = [velocityResult, noveltyResult].flatMap((r) => r.findings).filter((f) => f.level === 'breach');
      const fraud: FraudSignals = {
        mode: policy.mode,
        international: number.international,
        attempt: counted
          ? {
              placed,
              policyDenied: facts.policyDenied,
              international: number.international,
              destination: number.e164 ?? number.digits,
              country: placed && number.international ? number.country : null,
              novelCountry: placed && noveltyResult.novel,
            }
          : null,
        findings: [...velocityResult.findings, ...noveltyResult.findings, ...spreadResult.findings, ...breakerResult.findings],
        lock: !shadow && limits.lockOnBreach && breaches.length > 0 ? `velocity: ${breaches.map((f) => f.detail).join('; ')}` : null,
        tripBreaker: !shadow && breakerResult.trip,
        counts: { ...velocityResult.counts, ...noveltyResult.counts },
        thresholds,
      };
      if (!shadow) return { ...enforced, fraud };

      // Shadow mode: audited as enforce mode would have decided, but the call goes through.
      const wouldDeny = enforced.result === 'DENY';
      const limit = policy.budget.maxCallSeconds;
      const message = allowMessage(destination, limit) + (wouldDeny ? ` (shadow mode; would be denied: ${enforced.reason})` : ' (shadow mode)');
      return {
        ...base,
        result: 'ALLOW',
        reason: 'allowed',
        message,
        limitMs: limit * 1000,
        checks: outcomes,
        grant: shadowGrant(number.e164),
        mode: 'shadow',
        wouldDeny,
        wouldReason: enforced.reason,
        fraud,
      };
    },
  };
}
