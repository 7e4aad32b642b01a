import type { TSchema } from '@sinclair/typebox';
import { Value, ValueErrorType, type ValueError } from '@sinclair/typebox/value';
import { POLICY_SECTIONS } from '../engine/checks/registry.js';
import { ValidationError, type FieldProblem } from '../errors.js';
import { asObject, pointer } from './fields.js';
import { PolicyOverridesSchema, PolicySchema, type Policy, type PolicyOverrides } from './schema.js';

/**
 * Validation of policies and overrides: pure, all-or-nothing, and naming every field at fault.
 *
 * Two passes. TypeBox checks the shape (types, required and unknown fields); then semantic
 * checks look at what a schema cannot say (country codes, CIDRs, time zones…). When both find
 * something at the same field, the semantic message wins: it is the more precise one.
 */

export function validatePolicy(value: unknown, path = ''): Policy {
  const problems = policyProblems(value, path);
  if (problems.length > 0) throw new ValidationError(problems, 'policy');
  return value as Policy;
}

export function validateOverrides(value: unknown, path = ''): PolicyOverrides {
  const problems = overridesProblems(value, path);
  if (problems.length > 0) throw new ValidationError(problems, 'policy overrides');
  return value as PolicyOverrides;
}

export function policyProblems(value: unknown, path = ''): FieldProblem[] {
  return combineProblems(schemaProblems(PolicySchema, value, path), policyFieldProblems(value, path));
}

export function overridesProblems(value: unknown, path = ''): FieldProblem[] {
  return combineProblems(schemaProblems(PolicyOverridesSchema, value, path), policyFieldProblems(value, path));
}

// ---------------------------------------------------------------------------------------------
// Paths and problem lists

/** One problem per field, in the order found; a semantic message replaces a shape message. */
export function combineProblems(shape: FieldProblem[], semantic: FieldProblem[]): FieldProblem[] {
  const precise = new Map(semantic.map((p) => [p.field, p]));
  const combined = shape.map((p) => precise.get(p.field) ?? p);
  const listed = new Set(combined.map((p) => p.field));
  return [...combined, ...semantic.filter((p) => !listed.has(p.field))];
}

// ---------------------------------------------------------------------------------------------
// Shape (TypeBox)

/** TypeBox's errors as field problems with plain messages, at most one per field. */
export function schemaProblems(schema: TSchema, value: unknown, path: string): FieldProblem[] {
  const byField = new Map<string, ValueError>();
  for (const error of Value.Errors(schema, value)) {
    const seen = byField.get(error.path);
    // A missing field also fails its type check; "missing" is the useful message.
    if (!seen || (error.type === ValueErrorType.ObjectRequiredProperty && seen.type !== error.type)) byField.set(error.path, error);
  }
  return [...byField.values()].map((error) => ({ field: path + error.path, message: shapeMessage(error) }));
}

function lastSegment(path: string): string {
  return (path.split('/').pop() ?? '').replace(/~1/g, '/').replace(/~0/g, '~');
}

function shapeMessage(error: ValueError): string {
  const { schema, value } = error;
  switch (error.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return `required field "${lastSegment(error.path)}" is missing`;
    case ValueErrorType.ObjectAdditionalProperties:
      return `unknown field "${lastSegment(error.path)}"`;
    case ValueErrorType.StringPattern:
      return `${show(value)} does not match ${String(schema.pattern)}`;
    case ValueErrorType.NumberMinimum:
    case ValueErrorType.IntegerMinimum:
      return `must be at least ${String(schema.minimum)}, got ${show(value)}`;
    case ValueErrorType.NumberMaximum:
    case ValueErrorType.IntegerMaximum:
      return `must be at most ${String(schema.maximum)}, got ${show(value)}`;
    case ValueErrorType.ArrayMinItems:
      return `must list at least ${String(schema.minItems)} item(s)`;
    case ValueErrorType.Array:
    case ValueErrorType.Boolean:
    case ValueErrorType.Integer:
    case ValueErrorType.Literal:
    case ValueErrorType.Null:
    case ValueErrorType.Number:
    case ValueErrorType.Object:
    case ValueErrorType.String:
    case ValueErrorType.Union:
      return `must be ${describe(schema)}, got ${show(value)}`;
    default:
      return error.message;
  }
}

/** What a schema admits, in words: "a number of at least 0 or null", "one of "deny", "allow"". */
function describe(schema: TSchema): string {
  if (Array.isArray(schema.anyOf)) {
    const options = schema.anyOf as TSchema[];
    if (options.every((o) => o.const !== undefined)) return `one of ${options.map((o) => JSON.stringify(o.const)).join(', ')}`;
    return options.map(describe).join(' or ');
  }
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  const atMost = typeof schema.maximum === 'number' ? ` and at most ${schema.maximum}` : '';
  const atLeast = typeof schema.minimum === 'number' ? ` of at least ${schema.minimum}${atMost}` : '';
  switch (schema.type) {
    case 'null':
      return 'null';
    case 'string':
      return 'a string';
    case 'number':
      return `a number${atLeast}`;
    case 'integer':
      return `a whole number${atLeast}`;
    case 'boolean':
      return 'true or false';
    case 'array':
      return 'a list';
    case 'object':
      return 'an object';
    default:
      return 'something else';
  }
}

/** A value quoted for a message, cut short: a wrong value may be a whole pasted document. */
function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  // JSON.parse reads 1e400 as Infinity, which JSON.stringify would show as null.
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/** Semantic problems of a policy or of overrides (whatever parts are present), under `path`: each check validates its own section. */
export function policyFieldProblems(value: unknown, path: string): FieldProblem[] {
  const policy = asObject(value);
  if (!policy) return [];
  return POLICY_SECTIONS.flatMap((section) => (section.problems && policy[section.key] !== undefined ? section.problems(policy[section.key], pointer(path, section.key)) : []));
}
