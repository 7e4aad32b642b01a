import { ValidationError } from '../errors.js';
import type { Guard } from '../guard/guard.js';
import { validateImport } from '../guard/policy-document.js';
import { compileHighRisk, type HighRiskList } from '../numbers/high-risk.js';
import { validateDocument, type RateEntry } from '../policy/document.js';
import { mergePolicy } from '../policy/merge.js';
import type { PolicyOverrides } from '../policy/schema.js';
import { validateOverrides, validatePolicy } from '../policy/validate.js';
import type { PolicyState, StoredPolicySet } from '../store/roles/policies.js';

/**
 * Every policy write is checked as it will be used, before anything is stored: the merged,
 * effective policy of each extension it affects, since a policy the engine cannot compile
 * would deny every call with guard_error. Field paths point into the request body.
 */

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

/** `policy`: the stored policy the extension will inherit from. */
export function checkExtensionPolicy(guard: Guard, policy: StoredPolicySet, overrides: PolicyOverrides): void {
  validateOverrides(overrides);
  validatePolicy(mergePolicy(guard.resolvePolicySet(policy).defaults, overrides));
}

/** New defaults must be valid themselves and under every extension that inherits them. */
export function checkDefaultsPolicy(guard: Guard, policy: PolicyState, defaults: PolicyOverrides): void {
  rerooted(() => validateImport(guard, policy, { defaults }), '/defaults');
}

export function checkRates(rates: RateEntry[]): void {
  validateDocument({ rates });
}

export function checkBlockedPrefixes(blockedPrefixes: string[]): void {
  validateDocument({ blockedPrefixes });
}

export function checkHighRisk(list: HighRiskList): void {
  rerooted(() => validateDocument({ highRisk: list }), '/highRisk');
  compileHighRisk(list, '');
}
