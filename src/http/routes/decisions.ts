import { Readable } from 'node:stream';
import { Type, type Static, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { REASON_CODES } from '../../engine/checks/registry.js';
import { ValidationError } from '../../errors.js';
import { ExtensionNameSchema } from '../../policy/document.js';
import type { AuditStore, DecisionFilter } from '../../store/roles/audit.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import { EXPORT_CONTENT_TYPES, exportChunks } from '../decision-export.js';
import { DecisionDetailSchema, DecisionSchema, ReservationSchema, SettlementSchema, decisionDetailView, decisionView, reservationView, settlementView } from '../decision-views.js';
import { ERROR_RESPONSES, notFound } from '../errors.js';
import { CursorQuery, Limit, Nullable, Page } from '../schemas.js';

const Time = (description: string) => Type.String({ maxLength: 64, description: `${description}: ISO 8601 (2026-11-21T08:00:00-05:00; a bare date is midnight UTC)` });

const filterFields = {
  ext: Type.Optional(ExtensionNameSchema),
  result: Type.Optional(Type.Union([Type.Literal('ALLOW'), Type.Literal('DENY')])),
  reason: Type.Optional(Type.Union(REASON_CODES.map((code) => Type.Literal(code)))),
  country: Type.Optional(Type.String({ pattern: '^[A-Z]{2}$', description: 'destination country, ISO 3166 alpha-2' })),
  wouldDeny: Type.Optional(Type.Literal('true', { description: 'only shadow-mode calls that enforce mode would have denied' })),
  from: Type.Optional(Time('from this time, inclusive')),
  to: Type.Optional(Time('until this time, exclusive')),
  number: Type.Optional(
    Type.String({
      // An unencoded "+" in a query string arrives as a space: accepted, and read as the "+" it was.
      pattern: '^[ +]?[0-9*#]{1,31}$',
      description: 'the dialled digits or the E.164 number start with this (+44…; an unencoded + is understood)',
    }),
  ),
};

const ListQuery = Type.Object({ ...filterFields, limit: Type.Optional(Limit(1000, 50)), cursor: Type.Optional(CursorQuery) }, { additionalProperties: false });
const ExportQuery = Type.Object(
  { ...filterFields, format: Type.Optional(Type.Union([Type.Literal('csv'), Type.Literal('ndjson')], { description: 'csv (default) or ndjson' })) },
  { additionalProperties: false },
);

function time(text: string | undefined, field: string): number | undefined {
  if (text === undefined) return undefined;
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new ValidationError([{ field: `/${field}`, message: `"${text}" is not an ISO 8601 time` }], 'query string');
  return ms;
}

function filterOf(query: Static<typeof ExportQuery> | Static<typeof ListQuery>): DecisionFilter {
  const { ext, result, reason, country } = query;
  const number = query.number?.replace(/^ /, '+');
  const shadow = query.wouldDeny === 'true' ? { wouldDeny: true as const } : {};
  return { ext, result, reason, country, number, ...shadow, from: time(query.from, 'from'), to: time(query.to, 'to') };
}

/** The audit: every decision, approved or denied, newest first. */
export const decisionRoutes: FastifyPluginAsyncTypebox<{ audit: AuditStore }> = async (app, { audit }) => {
  app.get(
    '/decisions',
    {
      schema: {
        summary: 'Decisions, newest first, filtered; page with nextCursor',
        description: 'The cursor is a position, not an offset: decisions recorded while you page never shift a page, and each decision is listed once.',
        tags: ['decisions'],
        querystring: ListQuery,
        response: { 200: Page(DecisionSchema), ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 50;
      const cursor = request.query.cursor === undefined ? undefined : decodeCursor(request.query.cursor, ['number', 'string'] as const);
      const after = cursor && { at: cursor[0], id: cursor[1] };
      const rows = await audit.listDecisions(filterOf(request.query), { limit: limit + 1, after });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return { items: page.map(decisionView), nextCursor: rows.length > limit && last ? encodeCursor([last.at, last.callId]) : null };
    },
  );

  app.get(
    '/decisions/export',
    {
      // A HEAD would run the whole export to throw it away.
      exposeHeadRoute: false,
      schema: {
        summary: 'Every matching decision as CSV or NDJSON, streamed',
        description: 'Streamed in constant memory, so a year of decisions exports as easily as a day. NDJSON lines carry every check’s outcome.',
        tags: ['decisions'],
        querystring: ExportQuery,
        produces: ['text/csv', 'application/x-ndjson'],
        response: {
          200: {
            description: 'the decisions, newest first',
            // Plain JSON Schema, not TypeBox: the reply is a stream, not a string built in memory.
            content: { 'text/csv': { schema: { type: 'string' } }, 'application/x-ndjson': { schema: { type: 'string' } } },
          },
          ...ERROR_RESPONSES,
        },
      },
    },
    async (request, reply) => {
      const format = request.query.format ?? 'csv';
      const records = audit.exportDecisions(filterOf(request.query));
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      reply.type(EXPORT_CONTENT_TYPES[format]).header('content-disposition', `attachment; filename="dialguard-decisions-${stamp}.${format}"`);
      return reply.send(Readable.from(exportChunks(records, format), { objectMode: false }));
    },
  );

  app.get(
    '/decisions/:id',
    {
      schema: {
        summary: 'One decision with every check’s outcome, its reservation and its settlements',
        tags: ['decisions'],
        params: Type.Object({ id: Type.String({ pattern: '^[0-9A-HJKMNP-TV-Z]{26}$', description: 'the decision id (DIALGUARD_CALL_ID)' }) }, { additionalProperties: false }),
        response: {
          200: Type.Object({ decision: DecisionDetailSchema, reservation: Nullable(ReservationSchema), settlements: Type.Array(SettlementSchema) }),
          ...ERROR_RESPONSES,
        },
      },
    },
    async (request) => {
      const { id } = request.params;
      const decision = await audit.getDecision(id);
      if (!decision) throw notFound(`no decision ${id}`);
      const [reservation, settlements] = await Promise.all([audit.getReservation(id), audit.listSettlements(id)]);
      return {
        decision: decisionDetailView(decision),
        reservation: reservation && reservationView(reservation),
        settlements: settlements.map(settlementView),
      };
    },
  );
};
