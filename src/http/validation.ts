import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import type { FastifySchemaCompiler } from 'fastify';
import { ValidationError } from '../errors.js';
import { schemaProblems } from '../policy/validate.js';

const PART_NAMES: Readonly<Record<string, string>> = {
  body: 'request body',
  querystring: 'query string',
  params: 'path',
  headers: 'headers',
};

/**
 * Route schemas checked by TypeBox (the policy's own validator) instead of Ajv: unknown fields
 * are refused, not silently removed (Fastify's Ajv default), a body is never coerced ("25" is
 * not a budget), and a refusal names its fields in the words `dialguard policy import` uses.
 * Query strings and path parameters are text, so they are converted first ("50" to 50).
 */
export const typeboxValidatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const check = TypeCompiler.Compile(schema);
  const part = PART_NAMES[httpPart ?? ''] ?? 'request';
  return (value: unknown) => {
    const data = httpPart === 'body' ? value : Value.Convert(schema, value);
    if (check.Check(data)) return { value: data };
    return { error: new ValidationError(schemaProblems(schema, data, ''), part) };
  };
};
