import type { PolicyDocument } from '../policy/document.js';
import { mergePolicy } from '../policy/merge.js';
import { validatePolicy } from '../policy/validate.js';
import { ValidationError, type FieldProblem } from '../errors.js';
import type { PolicyState, PolicyStore } from '../store/roles/policies.js';
import type { Guard } from './guard.js';

/** The whole policy as one document, built-ins spelled out, so that an import restores it. */
export async function exportDocument(guard: Pick<Guard, 'resolvePolicySet'>, policies: Pick<PolicyStore, 'loadPolicySet' | 'listExtensions'>): Promise<PolicyDocument> {
  const [stored, extensions] = await Promise.all([policies.loadPolicySet(), policies.listExtensions()]);
  const set = guard.resolvePolicySet(stored);
  return {
    defaults: set.defaults,
    extensions: Object.fromEntries(extensions.map((e) => [e.ext, e.overrides])),
    rates: set.rates,
    blockedPrefixes: set.blockedPrefixes,
    highRisk: set.highRisk,
    site: set.site,
  };
}

/**
 * An import is checked as it will be used: every extension merged over the defaults it will
 * inherit (the new ones if the document has them), so that nothing invalid is half-applied.
 * `policy` is the stored policy the document would replace parts of.
 */
export function validateImport(guard: Pick<Guard, 'resolvePolicySet' | 'builtinDefaults'>, policy: PolicyState, doc: PolicyDocument): void {
  const current = guard.resolvePolicySet(policy.set);
  const problems: FieldProblem[] = [];
  const collect = (fn: () => void): void => {
    try {
      fn();
    } catch (err) {
      if (err instanceof ValidationError) problems.push(...err.problems);
      else throw err;
    }
  };
  let defaults = current.defaults;
  collect(() => {
    defaults = validatePolicy(doc.defaults ? mergePolicy(guard.builtinDefaults, doc.defaults) : current.defaults, '/defaults');
  });
  const extensions = doc.extensions ?? Object.fromEntries(policy.extensions.map((e) => [e.ext, e.overrides]));
  for (const [ext, overrides] of Object.entries(extensions)) {
    collect(() => validatePolicy(mergePolicy(defaults, overrides), `/extensions/${ext}`));
  }
  if (problems.length) throw new ValidationError(problems);
}
