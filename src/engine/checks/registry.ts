import type { CheckName, ReasonCode } from '../../domain/decision.js';
import { budget } from './budget.js';
import type { CheckKind, FormField, PolicySection, RegisteredCheck } from './check.js';
import { circuitBreaker } from './circuit-breaker.js';
import { destination } from './destination.js';
import { emergency } from './emergency.js';
import { extension } from './extension.js';
import { geofence } from './geofence.js';
import { novelty } from './novelty.js';
import { number } from './number.js';
import { schedule } from './schedule.js';
import { velocity } from './velocity.js';
import { voicemail } from './voicemail.js';

/**
 * Every check, in the order the audit lists them; the first failure in this order names the
 * reason. (The engine runs them by kind: see CheckKind.) Velocity and novelty come right after
 * the extension, so that a breach (which may lock the extension) says so.
 *
 * Adding a check: one module in this folder (name and reason codes declared on the domain's
 * interfaces, reasons with their messages, its policy section, its store reads, its kind and
 * evaluate), one line here, and its rows in the README (test/engine/registry.test.ts says which).
 */
export const CHECKS = [
  emergency,
  extension,
  velocity,
  novelty,
  number,
  destination,
  voicemail,
  schedule,
  geofence,
  budget,
  circuitBreaker,
] as const satisfies readonly RegisteredCheck[];

// Every name a module declared on the domain's CheckNames is registered above: a module left
// out of the list fails to compile here, naming it.
type Unregistered = Exclude<CheckName, (typeof CHECKS)[number]['name']>;
const everyNameRegistered: [Unregistered] extends [never] ? true : { unregistered: Unregistered } = true;
void everyNameRegistered;

export const CHECK_NAMES: readonly CheckName[] = CHECKS.map((c) => c.name);

/** What the engine relies on: one override and one price, the gate before any policy or fraud check. */
function registryProblems(checks: readonly RegisteredCheck[]): string[] {
  const problems: string[] = [];
  const count = (kind: CheckKind) => checks.filter((c) => c.kind === kind).length;
  if (count('override') !== 1) problems.push('exactly one override check');
  if (count('price') !== 1) problems.push('exactly one price check');
  if (new Set(checks.map((c) => c.name)).size !== checks.length) problems.push('each name once');
  const sections = new Map<string, PolicySection>();
  for (const c of checks) {
    if (!c.section) continue;
    const known = sections.get(c.section.key);
    if (known && known !== c.section) problems.push(`one declaration of the policy section ${c.section.key}`);
    sections.set(c.section.key, c.section);
  }
  return problems;
}

const problems = registryProblems(CHECKS);
if (problems.length > 0) throw new Error(`the check registry needs ${problems.join(', ')}`);

/** The engine's own reason codes, around the checks' ones. */
const ENGINE_REASONS = { first: ['allowed'], last: ['guard_error'] } as const satisfies Record<string, readonly ReasonCode[]>;

/** Every reason code, in the README's order: `allowed`, each check's in registry order, `guard_error`. */
export const REASON_CODES: readonly ReasonCode[] = [
  ...ENGINE_REASONS.first,
  ...new Set(CHECKS.flatMap((c) => Object.keys(c.reasons) as ReasonCode[])),
  ...ENGINE_REASONS.last,
];

/** The denial sentence of each check's reason codes; checks that share a code share its sentence. */
export const REASON_TEXT: ReadonlyMap<ReasonCode, string> = (() => {
  const texts = new Map<ReasonCode, string>();
  for (const check of CHECKS) {
    for (const [code, text] of Object.entries(check.reasons) as Array<[ReasonCode, string]>) {
      const known = texts.get(code);
      if (known !== undefined && known !== text) throw new Error(`check ${check.name} gives reason ${code} another message than an earlier check`);
      texts.set(code, text);
    }
  }
  return texts;
})();

/** The policy's sections owned by checks, each once, in registry order. */
export const POLICY_SECTIONS: readonly PolicySection[] = [
  ...new Map(CHECKS.flatMap((c) => (c.section ? [[c.section.key, c.section] as const] : []))).values(),
];

/** The fields of the dashboard's policy form: the mode, then each check's, in registry order. */
export const POLICY_FORM: readonly FormField[] = [{ path: '/mode', label: 'Mode' }, ...CHECKS.flatMap((c) => c.form)];
