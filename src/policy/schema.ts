import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { CHECKS, POLICY_SECTIONS } from '../engine/checks/registry.js';
import type { DAYS } from '../engine/checks/schedule.js';
export { DAYS, WindowSchema, type PolicyWindow } from '../engine/checks/schedule.js';

/**
 * The policy shape of the design contract, as TypeBox schemas: the same objects validate
 * imports, the admin API's bodies and produce its OpenAPI document.
 *
 * Every number has a finite maximum (src/bounds.ts).
 *
 * `PolicySchema` is a complete, effective policy. `PolicyOverridesSchema` is what an
 * extension stores: any subset, merged over the defaults (objects merge, arrays replace).
 */

export const NumberingSchema = Type.Object(
  {
    accessPrefix: Type.String({ pattern: '^[0-9*#]*$', description: 'trunk access digits stripped before parsing ("9")' }),
  },
  { additionalProperties: false },
);

export const ModeSchema = Type.Union([Type.Literal('enforce'), Type.Literal('shadow')], {
  description: 'shadow: every check runs and is audited, but every call is allowed',
});

/** The sections of no check; each check's own section comes from its module (src/engine/checks/registry.ts). */
const BASE_PROPERTIES = {
  enabled: Type.Boolean(),
  numbering: NumberingSchema,
};

type RegisteredSection = NonNullable<(typeof CHECKS)[number]['section']>;
/** Each check's section schema under its key, typed: `Policy['budget']` is the budget module's. */
type SectionProperties = { [S in RegisteredSection as S['key']]: S['schema'] };

const sectionProperties = Object.fromEntries(POLICY_SECTIONS.map((section) => [section.key, section.schema])) as SectionProperties;

// `mode` last, as the policy has always listed it.
const policyProperties = { ...BASE_PROPERTIES, ...sectionProperties, mode: ModeSchema };

export const PolicySchema = Type.Object(policyProperties, { additionalProperties: false, $id: 'Policy' });

/** Any subset of a policy, nested objects partial too. */
function deepPartial<T extends TSchema>(schema: T): TSchema {
  if (schema.type === 'object' && schema.properties) {
    const props: Record<string, TSchema> = {};
    for (const [k, v] of Object.entries(schema.properties as Record<string, TSchema>)) props[k] = Type.Optional(deepPartial(v));
    return Type.Object(props, { additionalProperties: false });
  }
  return schema;
}

export const PolicyOverridesSchema = deepPartial(PolicySchema);

export type Policy = Static<typeof PolicySchema>;
export type EffectivePolicy = Policy;
export type Day = (typeof DAYS)[number];

type DeepPartial<T> = T extends unknown[] ? T : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;
export type PolicyOverrides = DeepPartial<Policy>;
