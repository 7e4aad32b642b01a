import { Type, type FastifyPluginAsyncTypebox, type Static } from '@fastify/type-provider-typebox';
import { MAX_AMOUNT } from '../../bounds.js';
import { REASON_CODES } from '../../engine/checks/registry.js';
import type { Guard } from '../../guard/guard.js';
import { ExtensionNameSchema } from '../../policy/document.js';
import { fromMicros, toMicros } from '../../rates/rate-table.js';
import type { AlertRecord, AlertStore } from '../../store/roles/alerts.js';
import type { AuditStore, DecisionRecord } from '../../store/roles/audit.js';
import type { CircuitBreakerRecord, CircuitBreakerStore } from '../../store/roles/circuit-breaker.js';
import { ValidationError } from '../../errors.js';
import { actor } from '../authentication.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import { ERROR_RESPONSES, notFound } from '../errors.js';
import { CursorQuery, IsoTime, Limit, Money, Nullable, Page, iso } from '../schemas.js';

const ULID = '^[0-9A-HJKMNP-TV-Z]{26}$';
const KINDS = ['warn', 'breach', 'lock', 'circuit_breaker'] as const;

const AlertSchema = Type.Object({
  id: Type.String({ description: 'the alert id (a ULID)' }),
  at: IsoTime,
  lastAt: Type.String({ description: 'the last time the same condition recurred within its window (ISO 8601, UTC)' }),
  occurrences: Type.Integer({ description: 'a condition recurring within its window counts here instead of raising another alert' }),
  kind: Type.Union(KINDS.map((k) => Type.Literal(k)), { description: 'warn: a warn threshold or a first call to a new country; breach: a limit exceeded; lock: the extension was locked; circuit_breaker: international calls stopped site-wide' }),
  severity: Type.Union([Type.Literal('warn'), Type.Literal('error')]),
  ext: Nullable(Type.String()),
  check: Nullable(Type.String({ description: 'velocity, novelty, circuit_breaker, or takeover (an account that authenticated from a suspicious source)' })),
  counter: Nullable(Type.String({ description: 'attemptsPerMinute, internationalPerHour, distinctDestinationsPerHour, deniedPerHour, newCountriesPerHour, newCountry, internationalSpendPerHour; for a takeover sourceFailures or newCountry' })),
  message: Type.String(),
  shadow: Type.Boolean({ description: 'raised in shadow mode: nothing was enforced' }),
  decisionId: Nullable(Type.String({ description: 'the decision that raised it; null for a takeover (no call raised it)' })),
  details: Type.Object(
    {
      count: Nullable(Type.Number()),
      limit: Nullable(Type.Number()),
      windowSeconds: Nullable(Type.Number()),
      country: Nullable(Type.String()),
      counts: Type.Record(Type.String(), Type.Number()),
      thresholds: Type.Record(Type.String(), Type.Union([Type.Number(), Type.Boolean(), Type.Null()])),
      numbers: Type.Array(Type.String()),
      decisionIds: Type.Array(Type.String()),
      locked: Type.Boolean(),
    },
    { description: 'what the webhook payload carries besides the fields above' },
  ),
  acknowledged: Nullable(Type.Object({ at: IsoTime, by: Type.String({ description: 'the token name that acknowledged it' }) })),
  delivery: Type.Object({
    status: Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed'), Type.Literal('none')], {
      description: 'none: no webhook was configured',
    }),
    attempts: Type.Integer(),
    nextAttemptAt: Nullable(IsoTime),
    lastError: Nullable(Type.String()),
  }),
});

const alertView = (a: AlertRecord): Static<typeof AlertSchema> => ({
  id: a.id,
  at: iso(a.at),
  lastAt: iso(a.lastAt),
  occurrences: a.occurrences,
  kind: a.kind,
  severity: a.severity,
  ext: a.ext,
  check: a.check,
  counter: a.counter,
  message: a.message,
  shadow: a.shadow,
  decisionId: a.decisionId,
  details: a.details,
  acknowledged: a.acknowledged && { at: iso(a.acknowledged.at), by: a.acknowledged.by },
  delivery: {
    status: a.delivery.status,
    attempts: a.delivery.attempts,
    nextAttemptAt: a.delivery.nextAt === null ? null : iso(a.delivery.nextAt),
    lastError: a.delivery.lastError,
  },
});

const BreakerSchema = Type.Object({
  state: Type.Union([Type.Literal('closed'), Type.Literal('open')], { description: 'open: international calls are denied for every extension' }),
  openedAt: Nullable(IsoTime),
  openedBy: Nullable(Type.Object({ ext: Type.String(), callId: Type.String() }, { description: 'the call that opened it' })),
  internationalSpendLastHour: Money,
  internationalSpendPerHour: Nullable(Type.Number({ description: 'the site limit; null: no limit' })),
  currency: Type.String({ description: 'the default policy’s budget currency' }),
  resetAt: Nullable(IsoTime),
  resetBy: Nullable(Type.String()),
});

const ShadowDenialSchema = Type.Object({
  id: Type.String(),
  at: IsoTime,
  ext: Type.String(),
  dialled: Type.String(),
  e164: Nullable(Type.String()),
  country: Nullable(Type.String()),
  source: Type.String(),
  origin: Type.String(),
  wouldReason: Type.String({ description: 'the reason enforce mode would have denied the call with' }),
  failedChecks: Type.Array(Type.Object({ name: Type.String(), reason: Type.Optional(Type.String()), detail: Type.String() })),
  limitMs: Type.Integer({ description: 'the limit the call was given' }),
});

const shadowView = (d: DecisionRecord): Static<typeof ShadowDenialSchema> => ({
  id: d.callId,
  at: iso(d.at),
  ext: d.extension,
  dialled: d.dialled,
  e164: d.e164,
  country: d.country,
  source: d.sourceAddress,
  origin: d.origin,
  wouldReason: d.wouldReason ?? d.reason,
  failedChecks: d.checks.filter((c) => c.outcome === 'fail').map(({ name, reason, detail }) => ({ name, reason, detail })),
  limitMs: d.limitMs,
});

const AlertParams = Type.Object({ id: Type.String({ pattern: ULID, description: 'the alert id' }) }, { additionalProperties: false });

const Time = (description: string) => Type.String({ maxLength: 64, description: `${description}: ISO 8601` });

function time(text: string | undefined, field: string): number | undefined {
  if (text === undefined) return undefined;
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new ValidationError([{ field: `/${field}`, message: `"${text}" is not an ISO 8601 time` }], 'query string');
  return ms;
}

export interface AlertRoutesDeps {
  guard: Pick<Guard, 'policySet'>;
  alerts: AlertStore;
  breaker: CircuitBreakerStore;
  audit: Pick<AuditStore, 'listDecisions'>;
}

/** Fraud detection: alerts, the site circuit breaker, and the calls shadow mode let through. */
export const alertRoutes: FastifyPluginAsyncTypebox<AlertRoutesDeps> = async (app, { guard, alerts, breaker, audit }) => {
  const breakerView = async (record: Promise<CircuitBreakerRecord>): Promise<Static<typeof BreakerSchema>> => {
    const [b, policy] = await Promise.all([record, guard.policySet()]);
    return {
      state: b.open ? 'open' : 'closed',
      openedAt: b.openedAt === null ? null : iso(b.openedAt),
      openedBy: b.openedBy,
      internationalSpendLastHour: fromMicros(b.spentMicros),
      internationalSpendPerHour: b.limitMicros === null ? null : fromMicros(b.limitMicros),
      currency: policy.defaults.budget.currency,
      resetAt: b.resetAt === null ? null : iso(b.resetAt),
      resetBy: b.resetBy,
    };
  };

  app.get(
    '/alerts',
    {
      schema: {
        summary: 'Alerts, newest first: velocity warnings and breaches, locks, the circuit breaker',
        tags: ['alerts'],
        querystring: Type.Object(
          {
            ext: Type.Optional(ExtensionNameSchema),
            kind: Type.Optional(Type.Union(KINDS.map((k) => Type.Literal(k)))),
            acknowledged: Type.Optional(Type.Boolean({ description: 'false: only those nobody acknowledged yet' })),
            limit: Type.Optional(Limit(500, 50)),
            cursor: Type.Optional(CursorQuery),
          },
          { additionalProperties: false },
        ),
        response: { 200: Page(AlertSchema), ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const { ext, kind, acknowledged } = request.query;
      const limit = request.query.limit ?? 50;
      const [beforeId] = request.query.cursor === undefined ? [undefined] : decodeCursor(request.query.cursor, ['string'] as const);
      const rows = await alerts.listAlerts({ ext, kind, acknowledged }, { limit: limit + 1, beforeId });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return { items: page.map(alertView), nextCursor: rows.length > limit && last ? encodeCursor([last.id]) : null };
    },
  );

  app.get(
    '/alerts/:id',
    { schema: { summary: 'One alert', tags: ['alerts'], params: AlertParams, response: { 200: AlertSchema, ...ERROR_RESPONSES } } },
    async (request) => {
      const alert = await alerts.getAlert(request.params.id);
      if (!alert) throw notFound(`no alert ${request.params.id}`);
      return alertView(alert);
    },
  );

  app.post(
    '/alerts/:id/ack',
    {
      schema: {
        summary: 'Acknowledge an alert (the first acknowledgement is kept); it does not unlock anything',
        tags: ['alerts'],
        params: AlertParams,
        response: { 200: AlertSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const alert = await alerts.acknowledgeAlert(request.params.id, actor(request), new Date());
      if (!alert) throw notFound(`no alert ${request.params.id}`);
      return alertView(alert);
    },
  );

  app.get(
    '/circuit-breaker',
    {
      schema: {
        summary: 'The site circuit breaker: open or closed, international spend in the last hour, the limit',
        tags: ['alerts'],
        response: { 200: BreakerSchema, ...ERROR_RESPONSES },
      },
    },
    async () => breakerView(breaker.circuitBreaker(new Date())),
  );

  app.put(
    '/circuit-breaker',
    {
      schema: {
        summary: 'Set the site limit on international spend in any hour (null: no limit)',
        tags: ['alerts'],
        body: Type.Object(
          { internationalSpendPerHour: Nullable(Type.Number({ minimum: 0, maximum: MAX_AMOUNT, description: 'in the budget currency' })) },
          { additionalProperties: false },
        ),
        response: { 200: BreakerSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const { internationalSpendPerHour: limit } = request.body;
      return breakerView(breaker.setCircuitBreakerLimit(limit === null ? null : toMicros(limit), actor(request), new Date()));
    },
  );

  app.post(
    '/circuit-breaker/reset',
    {
      schema: {
        summary: 'Close the circuit breaker: international calls are allowed again and the hour of spend starts afresh',
        tags: ['alerts'],
        response: { 200: BreakerSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => breakerView(breaker.resetCircuitBreaker(actor(request), new Date())),
  );

  app.get(
    '/shadow-denials',
    {
      schema: {
        summary: 'Calls allowed in shadow mode that enforce mode would have denied, newest first',
        description: 'Each with the reason it would have been denied with and every check that failed. Page with nextCursor.',
        tags: ['decisions'],
        querystring: Type.Object(
          {
            ext: Type.Optional(ExtensionNameSchema),
            reason: Type.Optional(Type.Union(REASON_CODES.map((code) => Type.Literal(code)), { description: 'only this would-be reason' })),
            from: Type.Optional(Time('from this time, inclusive')),
            to: Type.Optional(Time('until this time, exclusive')),
            limit: Type.Optional(Limit(1000, 50)),
            cursor: Type.Optional(CursorQuery),
          },
          { additionalProperties: false },
        ),
        response: { 200: Page(ShadowDenialSchema), ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const { ext, reason } = request.query;
      const limit = request.query.limit ?? 50;
      const cursor = request.query.cursor === undefined ? undefined : decodeCursor(request.query.cursor, ['number', 'string'] as const);
      const filter = { ext, wouldDeny: true as const, wouldReason: reason, from: time(request.query.from, 'from'), to: time(request.query.to, 'to') };
      const rows = await audit.listDecisions(filter, { limit: limit + 1, after: cursor && { at: cursor[0], id: cursor[1] } });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return { items: page.map(shadowView), nextCursor: rows.length > limit && last ? encodeCursor([last.at, last.callId]) : null };
    },
  );
};
