import type { PolicyDocument } from '../policy/document.js';
import { mergePolicy } from '../policy/merge.js';
import { validatePolicy } from '../policy/validate.js';
import { ValidationError, type FieldProblem } from '../errors.js';
import type { Store } from '../store/store.js';
import type { Guard } from './guard.js';

/** The whole policy as one document, built-ins spelled out, so that an import restores it. */
export function exportDocument(guard: Guard, store: Store): PolicyDocument {
  const set = guard.resolvePolicySet();
  return {
    defaults: set.defaults,
    extensions: Object.fromEntries(store.listExtensions().map((e) => [e.ext, e.overrides])),
    rates: set.rates,
    blockedPrefixes: set.blockedPrefixes,
    highRisk: set.highRisk,
    site: set.site,
  };
}

/**
 * An import is checked as it will be used: every extension merged over the defaults it will
 * inherit (the new ones if the document has them), so that nothing invalid is half-applied.
 */
export function validateImport(guard: Guard, store: Store, doc: PolicyDocument): void {
  const current = guard.resolvePolicySet();
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
  const extensions = doc.extensions ?? Object.fromEntries(store.listExtensions().map((e) => [e.ext, e.overrides]));
  for (const [ext, overrides] of Object.entries(extensions)) {
    collect(() => validatePolicy(mergePolicy(defaults, overrides), `/extensions/${ext}`));
  }
  if (problems.length) throw new ValidationError(problems);
}
