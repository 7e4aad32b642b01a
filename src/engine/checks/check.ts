import type { Static, TSchema } from '@sinclair/typebox';
import type { CheckName, CheckOutcome, DecisionRequest, Grant, PolicyMode, ReasonCode, SourceInfo } from '../../domain/decision.js';
import type { FraudFinding, FraudQuery } from '../../domain/fraud.js';
import type { NormalizedNumber } from '../../domain/number.js';
import type { SourceStanding } from '../../domain/security.js';
import type { UsageSnapshot } from '../../domain/usage.js';
import type { FieldProblem } from '../../errors.js';
import type { GeoIp } from '../../geo/geoip.js';
import type { HighRiskList } from '../../numbers/high-risk.js';
import type { RateTable } from '../../rates/rate-table.js';
import type { ExtensionState } from '../types.js';

/** Site-wide inputs of the engine: loaded by the shell, read-only here. */
export interface EngineEnv {
  homeCountry: string;
  geoip: GeoIp;
  rates: RateTable;
  highRisk: HighRiskList;
  blockedPrefixes: readonly string[];
  denyUnknownExtensions: boolean;
}

/** Everything a check may look at; computed once per request by the engine. */
export interface CheckContext {
  request: DecisionRequest;
  number: NormalizedNumber;
  source: SourceInfo;
  extension: ExtensionState;
  usage: UsageSnapshot;
  homeCountry: string;
  /** The source's recent failed authentications, read by the shell when a check asked for them (`reads.reputationMs`); else null. */
  standing: SourceStanding | null;
}

/** A check compiled from its part of the policy: a cheap, pure function per request. */
export type Check = (ctx: CheckContext) => CheckOutcome;

export const pass = (name: CheckOutcome['name'], detail: string): CheckOutcome => ({ name, outcome: 'pass', detail });
export const skip = (name: CheckOutcome['name'], detail: string): CheckOutcome => ({ name, outcome: 'skip', detail });
export const fail = (name: CheckOutcome['name'], reason: NonNullable<CheckOutcome['reason']>, detail: string): CheckOutcome => ({
  name,
  outcome: 'fail',
  reason,
  detail,
});

// ---------------------------------------------------------------------------------------------
// A check module: everything about one check, in one file, picked up through the registry.

/** What the default policy is built from (the site's country and time zone). */
export interface SiteDefaults {
  /** ISO 3166 alpha-2 code of the country the PBX dials from ("US"). */
  homeCountry: string;
  /** IANA time zone of schedules and of the budget day and month. */
  timezone: string;
}

/** The parts of a policy that belong to no check. */
export interface BasePolicy {
  enabled: boolean;
  numbering: { accessPrefix: string };
  mode: PolicyMode;
}

/**
 * A top-level section of the policy document that a check owns: its TypeBox schema (the shape,
 * for validation and the OpenAPI document), its secure default, and what its values must be
 * beyond what a schema can say. Another check may read the same section (novelty reads
 * `velocity`) by naming the same object.
 */
export interface PolicySection<S extends TSchema = TSchema, P extends string = string> {
  key: P;
  schema: S;
  defaults(site: SiteDefaults): Static<S>;
  /** Semantic problems of the section as given (a whole section or an override's subset, shape unchecked), under `path`. */
  problems?(value: unknown, path: string): FieldProblem[];
}

/** A field of a check's section on the dashboard's policy form; its input (list, number, text, choice) follows the schema. */
export interface FormField {
  /** JSON pointer into the policy, e.g. `/budget/dailySpend`. */
  path: string;
  label: string;
}

/** What the store reads for a check, in the transaction that decides: parts of the FraudQuery. */
export interface StoreReads {
  caps?: Partial<FraudQuery['caps']>;
  noveltyMs?: number | null;
  /** Read the site circuit breaker for international calls. */
  breaker?: boolean;
}

/** What the shell reads outside the store before the decision (in memory, synchronous). */
export interface ShellReads {
  /** Read the source's standing over this window, ms (SourceReputation.standing); absent or null: not read. */
  reputationMs?: number | null;
}

/** What the engine knows of the attempt when the fraud checks run: they count only what it changes. */
export interface AttemptFacts {
  /** Every other check lets the call through: it would be one more call placed. */
  wouldPlace: boolean;
  /** A policy check (number, destination, voicemail, schedule, geofence…) denies it. */
  policyDenied: boolean;
}

export interface FraudCheckResult {
  outcome: CheckOutcome;
  findings: FraudFinding[];
  /** Each counter with this attempt's effect, by counter name. */
  counts: Record<string, number>;
  /** This call is the extension's first to its country in noveltyDays (novelty only). */
  novel?: boolean;
}

export type FraudCheck = (ctx: CheckContext, facts: AttemptFacts) => FraudCheckResult;

export interface BudgetOutcome {
  outcome: CheckOutcome;
  grant: Grant | null;
}

export type BudgetCheck = (ctx: CheckContext) => BudgetOutcome;

export interface BrakeResult {
  outcome: CheckOutcome;
  findings: FraudFinding[];
  /** This call opens the brake (the site circuit breaker). */
  trip: boolean;
}

export interface BrakeCheck {
  /** The brake is on for this call: it will be denied whatever else passes. */
  isOpen(ctx: CheckContext): boolean;
  /** `grant` is what the call would reserve if placed, null if it is not placed. */
  check(ctx: CheckContext, grant: Grant | null): BrakeResult;
}

/**
 * How a check takes part in a decision; the engine runs the kinds in this order, whatever the
 * registry's order (which is the audit's order and the precedence of reasons):
 * - `override`: a pass decides the call at once (emergency numbers); every other check skips.
 * - `gate`: whether the extension may call at all; a failure means the attempt is not counted.
 * - `policy`: a plain rule on the call; a failure is a policy denial (counted by maxDeniedPerHour).
 * - `price`: the budget, run when nothing before it failed (in shadow mode always); its grant is reserved.
 * - `fraud`: counters over sliding windows (store reads), told whether the call would be placed.
 * - `brake`: a site-wide stop that sees the grant of a call about to be placed.
 */
export type CheckKind = 'override' | 'gate' | 'policy' | 'price' | 'fraud' | 'brake';

export interface FraudEvaluator {
  evaluate: FraudCheck;
  /** A breach locks the extension (enforce mode). */
  locksOnBreach: boolean;
  /** The policy's thresholds an alert reports; merged over the fraud checks. */
  thresholds?: Record<string, number | boolean | null>;
}

/** What each kind compiles to. */
export interface Evaluators {
  override: Check;
  gate: Check;
  policy: Check;
  price: BudgetCheck;
  fraud: FraudEvaluator;
  brake: BrakeCheck;
}

export interface CompileInput<S> {
  /** The check's own section of the effective policy (undefined when it has none). */
  section: S;
  policy: BasePolicy;
  env: EngineEnv;
}

/** One check, as its module declares it. */
export interface CheckModule<N extends CheckName, K extends CheckKind, S extends TSchema, P extends string> {
  name: N;
  kind: K;
  /** Every reason code it may fail with, and the short sentence of each (DIALGUARD_MESSAGE: "Call to X denied: …"). */
  reasons: Partial<Record<ReasonCode, string>>;
  section: PolicySection<S, P> | null;
  /** The fields of its section the dashboard's policy form shows (the rest is edited as JSON). */
  form?: readonly FormField[];
  /** What the store must read for it, from its section; the engine merges every check's reads. */
  storeReads?(section: Static<S>): StoreReads;
  /** What the shell must read for it, from its section. */
  shellReads?(section: Static<S>): ShellReads;
  compile(input: CompileInput<Static<S>>): Evaluators[K];
}

/** A module in the registry; its methods take the whole effective policy, validated against every section's schema. */
export interface RegisteredCheck<N extends CheckName = CheckName, Section extends PolicySection | null = PolicySection | null> {
  name: N;
  kind: CheckKind;
  reasons: Partial<Record<ReasonCode, string>>;
  section: Section;
  form: readonly FormField[];
  storeReads(policy: Readonly<Record<string, unknown>>): StoreReads;
  shellReads(policy: Readonly<Record<string, unknown>>): ShellReads;
  compile(policy: Readonly<Record<string, unknown>> & BasePolicy, env: EngineEnv): CompiledCheck;
}

export type CompiledCheck = { [K in CheckKind]: { name: CheckName; kind: K; run: Evaluators[K] } }[CheckKind];

/** Declares a check module; its section is picked from the effective policy by key. */
export function defineCheck<N extends CheckName, K extends CheckKind, S extends TSchema = TSchema, P extends string = never>(
  module: CheckModule<N, K, S, P>,
): RegisteredCheck<N, PolicySection<S, P> | null> {
  const sectionOf = (policy: Readonly<Record<string, unknown>>): Static<S> => (module.section ? policy[module.section.key] : undefined) as Static<S>;
  return {
    name: module.name,
    kind: module.kind,
    reasons: module.reasons,
    section: module.section,
    form: module.form ?? [],
    storeReads: (policy) => module.storeReads?.(sectionOf(policy)) ?? {},
    shellReads: (policy) => module.shellReads?.(sectionOf(policy)) ?? {},
    compile: (policy, env) =>
      ({ name: module.name, kind: module.kind, run: module.compile({ section: sectionOf(policy), policy, env }) }) as CompiledCheck,
  };
}
