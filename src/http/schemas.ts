import { Type, type TSchema } from '@sinclair/typebox';
import { ExtensionNameSchema } from '../policy/document.js';
import { PolicySchema } from '../policy/schema.js';

/** Schemas shared by several routes. Times are ISO 8601 in UTC; money is in the budget currency. */

export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const IsoTime = Type.String({ description: 'ISO 8601 time, UTC' });

export const Money = Type.Number({ description: 'amount in the budget currency' });

export const ExtParams = Type.Object({ ext: ExtensionNameSchema }, { additionalProperties: false });

/** A complete policy. PolicySchema without its $id, so one response may hold it twice. */
export const EffectivePolicySchema = Type.Object(PolicySchema.properties, { additionalProperties: false });

export const IfMatchHeaders = Type.Object({
  'if-match': Type.Optional(Type.String({ description: 'the ETag you read; the write is refused with 412 if it changed since' })),
});

export const CursorQuery = Type.String({ maxLength: 512, description: 'nextCursor of the previous page' });

export const Limit = (max: number, fallback: number) =>
  Type.Integer({ minimum: 1, maximum: max, description: `items per page, ${fallback} if not given` });

export const Page = <T extends TSchema>(item: T) =>
  Type.Object({
    items: Type.Array(item),
    nextCursor: Nullable(Type.String({ description: 'pass as ?cursor= for the next page; null on the last' })),
  });

export const iso = (ms: number): string => new Date(ms).toISOString();
export const money = (micros: number): number => micros / 1_000_000;
