import { ValidationError, type FieldProblem } from '../errors.js';
import type { Guard } from '../guard/guard.js';
import { validateImport } from '../guard/policy-document.js';
import { compileHighRisk, type HighRiskList } from '../numbers/high-risk.js';
import { normalizePrefix } from '../numbers/normalize.js';
import { validateDocument, type RateEntry } from '../policy/document.js';
import { mergePolicy } from '../policy/merge.js';
import type { Policy, PolicyOverrides } from '../policy/schema.js';
import { pointer, validateOverrides, validatePolicy } from '../policy/validate.js';
import type { Store } from '../store/store.js';

/**
 * Every policy write is checked as it will be used, before anything is stored: the merged,
 * effective policy of each extension it affects. Also checked: what the engine's compilers
 * parse more strictly than the schema (a blocked prefix "+0…" passes the E.164 pattern but
 * not normalizePrefix), since a policy the engine cannot compile would deny every call with
 * guard_error. Field paths point into the request body.
 */

function prefixProblems(prefixes: readonly string[], path: string): FieldProblem[] {
  return prefixes.flatMap((prefix, i) =>
    normalizePrefix(prefix) === null ? [{ field: pointer(path, i), message: `"${prefix}" is not an E.164 prefix: a country code starts with 1 to 9` }] : [],
  );
}

function throwIfAny(problems: FieldProblem[], what: string): void {
  if (problems.length > 0) throw new ValidationError(problems, what);
}

/** Runs `check`; its ValidationError comes back with `from` at the start of field paths replaced by `to`. */
function rerooted(check: () => void, from: string, to = ''): void {
  try {
    check();
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    const problems = error.problems.map((p) => (p.field === from || p.field.startsWith(`${from}/`) ? { ...p, field: to + p.field.slice(from.length) } : p));
    throw new ValidationError(problems);
  }
}

export function checkExtensionPolicy(guard: Guard, overrides: PolicyOverrides): void {
  validateOverrides(overrides);
  const effective = validatePolicy(mergePolicy(guard.resolvePolicySet().defaults, overrides));
  throwIfAny(prefixProblems(effective.destinations.blockedPrefixes, '/destinations/blockedPrefixes'), 'policy');
}

/** New defaults must be valid themselves and under every extension that inherits them. */
export function checkDefaultsPolicy(guard: Guard, store: Store, defaults: PolicyOverrides): void {
  rerooted(() => validateImport(guard, store, { defaults }), '/defaults');
  const merged: Policy = mergePolicy(guard.builtinDefaults, defaults);
  const problems = [
    ...prefixProblems(merged.destinations.blockedPrefixes, '/destinations/blockedPrefixes'),
    ...store.listExtensions().flatMap((e) =>
      prefixProblems(mergePolicy(merged, e.overrides).destinations.blockedPrefixes, pointer('/extensions', e.ext, 'destinations', 'blockedPrefixes')),
    ),
  ];
  throwIfAny(problems, 'policy');
}

export function checkRates(rates: RateEntry[]): void {
  validateDocument({ rates });
}

export function checkBlockedPrefixes(blockedPrefixes: string[]): void {
  validateDocument({ blockedPrefixes });
  throwIfAny(prefixProblems(blockedPrefixes, '/blockedPrefixes'), 'blocked prefixes');
}

export function checkHighRisk(list: HighRiskList): void {
  rerooted(() => validateDocument({ highRisk: list }), '/highRisk');
  compileHighRisk(list, '');
}
