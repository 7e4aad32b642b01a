import type { TSchema } from '@sinclair/typebox';
import { POLICY_FORM } from '../engine/checks/registry.js';
import { PolicySchema } from './schema.js';

/** How the dashboard edits a value: a comma-separated list, a number, free text, or one of a few choices. */
export type FormInput = { input: 'list' } | { input: 'number' } | { input: 'text' } | { input: 'choice'; options: string[] };

export type PolicyFormField = { path: string; label: string } & FormInput;

/** The schema at a JSON pointer of the policy; undefined when the pointer leads nowhere. */
function schemaAt(path: string): TSchema | undefined {
  let schema: TSchema | undefined = PolicySchema;
  for (const key of path.split('/').slice(1)) schema = (schema?.properties as Record<string, TSchema> | undefined)?.[key];
  return schema;
}

/** The input a schema calls for; a limit (a number or null) is a number whose empty field inherits. */
function inputOf(schema: TSchema, path: string): FormInput {
  const options: TSchema[] = Array.isArray(schema.anyOf) ? (schema.anyOf as TSchema[]).filter((o) => o.type !== 'null') : [schema];
  if (options.length > 0 && options.every((o) => typeof o.const === 'string')) return { input: 'choice', options: options.map((o) => o.const as string) };
  const [only] = options;
  if (options.length === 1 && only) {
    if (only.type === 'array') return { input: 'list' };
    if (only.type === 'number' || only.type === 'integer') return { input: 'number' };
    if (only.type === 'string') return { input: 'text' };
  }
  throw new Error(`the policy form cannot edit ${path}: its schema is neither a list, a number, a text nor a choice`);
}

/** The dashboard's policy form, each field with the input its schema calls for. */
export const POLICY_FORM_FIELDS: readonly PolicyFormField[] = POLICY_FORM.map(({ path, label }) => {
  const schema = schemaAt(path);
  if (!schema) throw new Error(`the policy form names ${path}, which the policy schema does not have`);
  return { path, label, ...inputOf(schema, path) };
});
