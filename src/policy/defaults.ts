import { ConfigError, type FieldProblem } from '../errors.js';
import type { SiteDefaults } from '../engine/checks/check.js';
import { POLICY_SECTIONS } from '../engine/checks/registry.js';
import { countryProblem, timezoneProblem } from './fields.js';
import type { Policy } from './schema.js';

export type DefaultPolicyOptions = SiteDefaults;

/**
 * The embedded default policy: secure with no configuration at all. Each check's section is its
 * module's default (src/engine/checks/): the home country only as destination, no premium,
 * satellite or high-risk numbers; no time restriction; sources on the PBX's own networks or in
 * the home country; voicemail call-out denied; budgets of 25 a day, 300 a month, 600 minutes,
 * two calls at once; velocity limits enforced, a breach locks the extension; mode `enforce`.
 *
 * Throws ConfigError when the options themselves are unusable.
 */
export function defaultPolicy(opts: DefaultPolicyOptions): Policy {
  assertOptions(opts);
  const sections = Object.fromEntries(POLICY_SECTIONS.map((section) => [section.key, section.defaults(opts)]));
  return { enabled: true, numbering: { accessPrefix: '' }, ...sections, mode: 'enforce' } as Policy;
}

function assertOptions(opts: DefaultPolicyOptions): void {
  const problems: FieldProblem[] = [];
  const country = countryProblem(opts.homeCountry, { wildcard: false });
  if (country !== null) problems.push({ field: 'homeCountry', message: country });
  const timezone = timezoneProblem(opts.timezone);
  if (timezone !== null) problems.push({ field: 'timezone', message: timezone });
  if (problems.length > 0) {
    throw new ConfigError(`cannot build the default policy: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`, problems);
  }
}
