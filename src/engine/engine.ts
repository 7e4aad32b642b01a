import type { GeoIp } from '../geo/geoip.js';
import { normalizeCached } from '../numbers/normalize-cache.js';
import type { HighRiskList } from '../numbers/high-risk.js';
import type { RateTable } from '../rates/rate-table.js';
import { compileBudget, type BudgetCheck } from './checks/budget.js';
import type { Check, CheckContext } from './checks/check.js';
import { skip } from './checks/check.js';
import { compileDestinationCheck } from './checks/destination.js';
import { compileEmergencyCheck } from './checks/emergency.js';
import { compileExtensionCheck } from './checks/extension.js';
import { compileGeofence, resolveSource } from './checks/geofence.js';
import { numberCheck } from './checks/number.js';
import { compileSchedule } from './checks/schedule.js';
import { compileVoicemail } from './checks/voicemail.js';
import { allowMessage, denialMessage, destinationName } from './messages.js';
import type {
  CheckName,
  CheckOutcome,
  Decision,
  DecisionRequest,
  EffectivePolicy,
  ExtensionState,
  UsageSnapshot,
} from './types.js';

/** Site-wide inputs of the engine: loaded by the shell, read-only here. */
export interface EngineEnv {
  homeCountry: string;
  geoip: GeoIp;
  rates: RateTable;
  highRisk: HighRiskList;
  blockedPrefixes: readonly string[];
  denyUnknownExtensions: boolean;
}

/** An emergency call is never cut by a budget; four hours bounds a line left off-hook. */
export const EMERGENCY_LIMIT_SECONDS = 4 * 3600;

/** One extension's effective policy, compiled once per policy version. */
export interface CompiledPolicy {
  readonly policy: EffectivePolicy;
  readonly version: number;
  readonly timezone: string;
  evaluate(request: DecisionRequest, extension: ExtensionState, usage: UsageSnapshot): Decision;
}

export function compilePolicy(policy: EffectivePolicy, env: EngineEnv, version: number): CompiledPolicy {
  const emergency = compileEmergencyCheck(env.homeCountry);
  // Order is the order of precedence: the first failure names the reason.
  const checks: ReadonlyArray<readonly [CheckName, Check]> = [
    ['extension', compileExtensionCheck(policy.enabled, env.denyUnknownExtensions)],
    ['number', numberCheck],
    ['destination', compileDestinationCheck(policy.destinations, { highRisk: env.highRisk, blockedPrefixes: env.blockedPrefixes })],
    ['voicemail', compileVoicemail(policy.voicemailCallout)],
    ['schedule', compileSchedule(policy.schedule)],
    ['geofence', compileGeofence(policy.geofence)],
  ];
  const budget: BudgetCheck = compileBudget(policy.budget, env.rates);
  const numbering = { homeCountry: env.homeCountry, accessPrefix: policy.numbering.accessPrefix };

  return {
    policy,
    version,
    timezone: policy.schedule.timezone,
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
      const destination = destinationName(number.country, number.e164, number.digits);

      const emergencyOutcome = emergency(ctx);
      if (emergencyOutcome.outcome === 'pass') {
        return {
          ...base,
          result: 'ALLOW',
          reason: 'emergency',
          message: `Emergency call to ${number.digits} allowed`,
          limitMs: EMERGENCY_LIMIT_SECONDS * 1000,
          checks: [emergencyOutcome, ...[...checks.map(([name]) => name), 'budget' as const].map((name) => skip(name, 'emergency numbers are always allowed'))],
          grant: null,
        };
      }

      const outcomes: CheckOutcome[] = [emergencyOutcome, ...checks.map(([, check]) => check(ctx))];
      const firstFailure = outcomes.find((o) => o.outcome === 'fail');
      // Budget last and only when everything else passed: it is the one check that reserves.
      const budgetResult = firstFailure ? null : budget(ctx);
      outcomes.push(budgetResult ? budgetResult.outcome : skip('budget', 'not reached: an earlier check denied the call'));
      const failure = firstFailure ?? (budgetResult?.outcome.outcome === 'fail' ? budgetResult.outcome : undefined);

      if (failure?.reason) {
        return { ...base, result: 'DENY', reason: failure.reason, message: denialMessage(failure.reason, destination), limitMs: 0, checks: outcomes, grant: null };
      }
      const grant = budgetResult?.grant ?? null;
      const seconds = grant?.seconds ?? policy.budget.maxCallSeconds;
      return { ...base, result: 'ALLOW', reason: 'allowed', message: allowMessage(destination, seconds), limitMs: seconds * 1000, checks: outcomes, grant };
    },
  };
}
