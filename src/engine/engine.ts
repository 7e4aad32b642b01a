import type { EffectivePolicy } from '../policy/schema.js';
import { emergencyNumbers } from '../numbers/emergency.js';
import { normalizeCached } from '../numbers/normalize-cache.js';
import { costMicros } from '../rates/rate-table.js';
import type { AttemptFacts, CheckContext, CompiledCheck, EngineEnv, FraudCheckResult, ShellReads, StoreReads } from './checks/check.js';
import { skip } from './checks/check.js';
import { resolveSource } from './checks/geofence.js';
import { CHECKS } from './checks/registry.js';
import { allowMessage, denialMessage, destinationName } from './messages.js';
import type { CheckName, CheckOutcome, Decision, DecisionRequest, Grant } from '../domain/decision.js';
import type { ExtensionState } from './types.js';
import type { FraudQuery, FraudSignals } from '../domain/fraud.js';
import type { SourceStanding } from '../domain/security.js';
import type { UsageSnapshot } from '../domain/usage.js';

export type { EngineEnv } from './checks/check.js';

/** An emergency call is never cut by a budget; four hours bounds a line left off-hook. */
export const EMERGENCY_LIMIT_SECONDS = 4 * 3600;

/** What the shell read outside the store for this request (see CompiledPolicy.reputationQuery). */
export interface ShellFacts {
  standing: SourceStanding | null;
}

const NO_SHELL_FACTS: ShellFacts = { standing: null };

/** One extension's effective policy, compiled once per policy version. */
export interface CompiledPolicy {
  readonly policy: EffectivePolicy;
  readonly version: number;
  readonly timezone: string;
  /** What the store must read for the fraud checks of this request; null when nothing counts (emergency, an extension that may not call). */
  fraudQuery(request: DecisionRequest, extension: ExtensionState): FraudQuery | null;
  /** The source address whose standing the shell must read, over which window; null when no check needs it. */
  reputationQuery(request: DecisionRequest): { address: string; windowMs: number } | null;
  evaluate(request: DecisionRequest, extension: ExtensionState, usage: UsageSnapshot, shell?: ShellFacts): Decision;
}

const NO_CAPS: FraudQuery['caps'] = { placedPerMinute: null, internationalPerHour: null, destinationsPerHour: null, deniedPerHour: null, newCountriesPerHour: null };

/** Every check's store reads, merged: a cap or window a check does not name stays unread. */
function mergeStoreReads(reads: StoreReads[]): Required<StoreReads> & { caps: FraudQuery['caps'] } {
  return reads.reduce<Required<StoreReads> & { caps: FraudQuery['caps'] }>(
    (all, r) => ({ caps: { ...all.caps, ...r.caps }, noveltyMs: r.noveltyMs !== undefined ? r.noveltyMs : all.noveltyMs, breaker: all.breaker || r.breaker === true }),
    { caps: NO_CAPS, noveltyMs: null, breaker: false },
  );
}

/** The longest window any check asks the shell to read the source's standing over; null: none does. */
function mergeShellReads(reads: ShellReads[]): number | null {
  const windows = reads.flatMap((r) => (r.reputationMs ? [r.reputationMs] : []));
  return windows.length === 0 ? null : Math.max(...windows);
}

type Of<K extends CompiledCheck['kind']> = Extract<CompiledCheck, { kind: K }>;
const ofKind = <K extends CompiledCheck['kind']>(checks: readonly CompiledCheck[], kind: K): Array<Of<K>> => checks.filter((c): c is Of<K> => c.kind === kind);

const notCounted = (name: CheckName): FraudCheckResult => ({ outcome: skip(name, 'not counted: the extension may not call'), findings: [], counts: {} });

export function compilePolicy(policy: EffectivePolicy, env: EngineEnv, version: number): CompiledPolicy {
  const view = policy as unknown as Parameters<(typeof CHECKS)[number]['compile']>[0];
  const compiled: readonly CompiledCheck[] = CHECKS.map((module) => module.compile(view, env));
  // The registry guarantees exactly one of each (src/engine/checks/registry.ts).
  const [emergency] = ofKind(compiled, 'override') as [Of<'override'>];
  const [budget] = ofKind(compiled, 'price') as [Of<'price'>];
  const gates = ofKind(compiled, 'gate');
  const policyChecks = ofKind(compiled, 'policy');
  const fraudChecks = ofKind(compiled, 'fraud');
  const brakes = ofKind(compiled, 'brake');
  // Every check but the override, in the order the audit lists them.
  const checkOrder: CheckName[] = compiled.filter((c) => c.kind !== 'override').map((c) => c.name);
  const reads = mergeStoreReads(CHECKS.map((module) => module.storeReads(view)));
  const reputationMs = mergeShellReads(CHECKS.map((module) => module.shellReads(view)));
  const locking = fraudChecks.map((c) => c.run.locksOnBreach);
  const thresholds: FraudSignals['thresholds'] = Object.assign({}, ...fraudChecks.map((c) => c.run.thresholds ?? {}));

  const shadow = policy.mode === 'shadow';
  const numbering = { homeCountry: env.homeCountry, accessPrefix: policy.numbering.accessPrefix };
  const emergencySet = emergencyNumbers(env.homeCountry);
  /** Shadow mode never shortens a call for a budget: it gets maxCallSeconds, reserved at its rate. */
  const shadowGrant = (e164: string | null): Grant | null => {
    if (!e164) return null;
    const rate = env.rates.rateFor(e164);
    return { seconds: policy.budget.maxCallSeconds, costMicros: costMicros(rate, policy.budget.maxCallSeconds), rate };
  };
  /** Where each check's outcome goes in the audit's list. */
  const position = new Map(compiled.map((c, i) => [c, i] as const));
  const at = (c: CompiledCheck): number => position.get(c) as number;

  return {
    policy,
    version,
    timezone: policy.schedule.timezone,
    fraudQuery(request, extension) {
      // The extension check's conditions: an attempt that check denies is not counted.
      if (extension.locked || !policy.enabled || (!extension.known && env.denyUnknownExtensions)) return null;
      const number = normalizeCached(request.dialled, numbering);
      if (emergencySet.has(number.digits)) return null;
      return {
        destination: number.e164 ?? number.digits,
        country: number.international ? number.country : null,
        breaker: reads.breaker && number.international,
        noveltyMs: reads.noveltyMs,
        caps: reads.caps,
      };
    },
    reputationQuery(request) {
      if (reputationMs === null) return null;
      const { ip } = resolveSource(request.source, env.geoip);
      return ip === null ? null : { address: ip, windowMs: reputationMs };
    },
    evaluate(request, extension, usage, shell = NO_SHELL_FACTS) {
      const ctx: CheckContext = {
        request,
        number: normalizeCached(request.dialled, numbering),
        source: resolveSource(request.source, env.geoip),
        extension,
        usage,
        homeCountry: env.homeCountry,
        standing: shell.standing,
      };
      const { number } = ctx;
      const base = { e164: number.e164, country: number.country, numberType: number.type, source: ctx.source, policyVersion: version };
      const destination = destinationName(number);

      const emergencyOutcome = emergency.run(ctx);
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

      const checks: CheckOutcome[] = new Array<CheckOutcome>(compiled.length);
      checks[at(emergency)] = emergencyOutcome;
      let gateFailure: CheckOutcome | undefined;
      for (const gate of gates) {
        const outcome = (checks[at(gate)] = gate.run(ctx));
        if (outcome.outcome === 'fail') gateFailure ??= outcome;
      }
      const counted = gateFailure === undefined;
      let policyFailure: CheckOutcome | undefined;
      for (const check of policyChecks) {
        const outcome = (checks[at(check)] = check.run(ctx));
        if (outcome.outcome === 'fail') policyFailure ??= outcome;
      }
      const firstFailure = counted ? policyFailure : gateFailure;
      // Budget only when everything else passed (it prices what the store reserves); in shadow mode always, for the audit.
      const budgetResult = firstFailure && !shadow ? null : budget.run(ctx);
      const budgetFailed = budgetResult?.outcome.outcome === 'fail';
      checks[at(budget)] = budgetResult ? budgetResult.outcome : skip(budget.name, 'not reached: an earlier check denied the call');
      const facts: AttemptFacts = {
        wouldPlace: !firstFailure && !budgetFailed && !brakes.some((b) => b.run.isOpen(ctx)),
        policyDenied: counted && policyFailure !== undefined,
      };
      const fraudResults = fraudChecks.map((c) => {
        const result = counted ? c.run.evaluate(ctx, facts) : notCounted(c.name);
        checks[at(c)] = result.outcome;
        return result;
      });
      const fraudDenied = fraudResults.some((r) => r.outcome.outcome === 'fail');
      const brakeGrant = facts.wouldPlace && !fraudDenied ? (budgetResult?.grant ?? null) : null;
      const brakeResults = brakes.map((b) => {
        const result = b.run.check(ctx, brakeGrant);
        checks[at(b)] = result.outcome;
        return result;
      });

      // In the registry's order, which is the precedence: the first failure names the reason.
      const failure = checks.find((o) => o.outcome === 'fail');
      const grant = failure ? null : (budgetResult?.grant ?? null);
      const seconds = grant?.seconds ?? policy.budget.maxCallSeconds;
      const enforced: Decision = failure?.reason
        ? { ...base, result: 'DENY', reason: failure.reason, message: denialMessage(failure.reason, destination), limitMs: 0, checks, grant: null }
        : { ...base, result: 'ALLOW', reason: 'allowed', message: allowMessage(destination, seconds), limitMs: seconds * 1000, checks, grant };

      const placed = counted && !failure;
      const breaches = fraudResults.flatMap((r, i) => (locking[i] ? r.findings : [])).filter((f) => f.level === 'breach');
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
              novelCountry: placed && fraudResults.some((r) => r.novel === true),
            }
          : null,
        findings: [...fraudResults.flatMap((r) => r.findings), ...brakeResults.flatMap((r) => r.findings)],
        lock: !shadow && breaches.length > 0 ? `velocity: ${breaches.map((f) => f.detail).join('; ')}` : null,
        tripBreaker: !shadow && brakeResults.some((r) => r.trip),
        counts: Object.assign({}, ...fraudResults.map((r) => r.counts)) as Record<string, number>,
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
        checks,
        grant: shadowGrant(number.e164),
        mode: 'shadow',
        wouldDeny,
        wouldReason: enforced.reason,
        fraud,
      };
    },
  };
}
