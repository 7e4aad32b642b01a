import { Type } from '@sinclair/typebox';

/** Schema pieces shared by the policy's sections, wherever a section is declared. */

export const Strings = (description: string) => Type.Array(Type.String(), { description });

/** A budget: a number from 0 to `maximum`, or null for no limit. */
export const Limit = (maximum: number, description: string) =>
  Type.Union([Type.Number({ minimum: 0, maximum }), Type.Null()], { description: `${description}; null means no limit` });
