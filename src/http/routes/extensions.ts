import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import type { Guard } from '../../guard/guard.js';
import { mergePatch, mergePolicy } from '../../policy/merge.js';
import { PolicyOverridesSchema, type Policy, type PolicyOverrides } from '../../policy/schema.js';
import type { LockRecord, LockStore } from '../../store/roles/locks.js';
import type { ExtensionRecord, PolicyChange, PolicyStore, StoredPolicySet } from '../../store/roles/policies.js';
import type { UsageStore } from '../../store/roles/usage.js';
import { actor } from '../authentication.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import { jsonBodyParser } from '../json-body.js';
import { ERROR_RESPONSES, notFound } from '../errors.js';
import { checkExtensionPolicy } from '../policy-checks.js';
import { checkIfMatch, etag } from '../preconditions.js';
import { CursorQuery, EffectivePolicySchema, ExtParams, IfMatchHeaders, IsoTime, Limit, Money, Nullable, Page, iso, money } from '../schemas.js';

const LockSchema = Type.Object({ reason: Type.String(), actor: Type.String(), at: IsoTime }, { description: 'set while the extension is locked' });

const ExtensionSchema = Type.Object({
  ext: Type.String(),
  stored: Type.Boolean({ description: 'false: no entry of its own, the extension inherits the defaults' }),
  version: Nullable(Type.Integer({ description: 'policy version of the entry’s last change (also the ETag)' })),
  updatedAt: Nullable(IsoTime),
  overrides: PolicyOverridesSchema,
  effective: EffectivePolicySchema,
  lock: Nullable(LockSchema),
});

const ExtensionSummarySchema = Type.Object({
  ext: Type.String(),
  stored: Type.Boolean(),
  version: Nullable(Type.Integer()),
  lock: Nullable(LockSchema),
  today: Type.Object({
    spend: Money,
    minutes: Type.Number({ description: 'answered minutes plus the limits of calls in progress' }),
    activeCalls: Type.Integer(),
  }),
});

const ChangeSchema = Type.Object({
  id: Type.Integer(),
  at: IsoTime,
  actor: Type.String({ description: 'name of the token (or CLI user) that made the change' }),
  subject: Type.String({ description: '`extension:EXT` for its policy, `lock:EXT` for its lock' }),
  before: Type.Unknown(),
  after: Type.Unknown(),
  version: Type.Integer(),
});

const MergePatchSchema = Type.Object(
  {},
  {
    additionalProperties: true,
    description:
      'RFC 7396 JSON merge patch of the overrides: objects merge, anything else replaces, null removes a key (the extension inherits it again). To set a budget to null (unlimited), PUT the overrides.',
  },
);

const lockView = (lock: LockRecord | null) => lock && { reason: lock.reason, actor: lock.actor, at: iso(lock.at) };

const changeView = (c: PolicyChange) => ({ id: c.id, at: iso(c.at), actor: c.actor, subject: c.subject, before: c.before, after: c.after, version: c.version });

export interface ExtensionRoutesDeps {
  guard: Guard;
  policies: Pick<PolicyStore, 'loadPolicySet' | 'getExtension' | 'listExtensions' | 'updateExtension' | 'policyHistory'>;
  locks: LockStore;
  usage: Pick<UsageStore, 'usage' | 'activeReservations'>;
}

export const extensionRoutes: FastifyPluginAsyncTypebox<ExtensionRoutesDeps> = async (app, { guard, policies, locks, usage: usageStore }) => {
  app.addContentTypeParser('application/merge-patch+json', { parseAs: 'string' }, jsonBodyParser(app));

  const view = async (ext: string, record: ExtensionRecord | null) => {
    const [stored, lock] = await Promise.all([policies.loadPolicySet(), locks.getLock(ext)]);
    return {
      ext,
      stored: record !== null,
      version: record?.version ?? null,
      updatedAt: record ? iso(record.updatedAt) : null,
      overrides: record?.overrides ?? {},
      effective: mergePolicy(guard.resolvePolicySet(stored).defaults, record?.overrides ?? {}),
      lock: lockView(lock),
    };
  };

  /** Replaces the overrides with `next(current)`, checked; answers like GET, 201 if the entry is new. */
  const write = async (ext: string, who: string, ifMatch: string | undefined, next: (current: ExtensionRecord | null) => PolicyOverrides) => {
    let created = false;
    const record = await policies.updateExtension(ext, who, (current, policy: StoredPolicySet) => {
      checkIfMatch(ifMatch, current?.version ?? null);
      const overrides = next(current);
      checkExtensionPolicy(guard, policy, overrides);
      created = current === null;
      return overrides;
    });
    return { created, record };
  };

  /** A write's answer: the extension as GET shows it, its ETag, 201 if the entry is new. */
  const written = (reply: FastifyReply, ext: string, { created, record }: Awaited<ReturnType<typeof write>>) => {
    if (record) reply.header('etag', etag(record.version));
    reply.code(created ? 201 : 200);
    return view(ext, record);
  };

  const summary = async (ext: string, record: ExtensionRecord | null, lock: LockRecord | null, defaults: Policy, now: Date) => {
    const timezone = mergePolicy(defaults, record?.overrides ?? {}).schedule.timezone;
    const [usage, active] = await Promise.all([usageStore.usage(ext, now, timezone), usageStore.activeReservations(now, ext)]);
    const activeCalls = active.length;
    return {
      ext,
      stored: record !== null,
      version: record?.version ?? null,
      lock: lockView(lock),
      today: { spend: money(usage.spentTodayMicros), minutes: usage.secondsToday / 60, activeCalls },
    };
  };

  app.get(
    '/extensions',
    {
      schema: {
        summary: 'Extensions with an entry or a lock, by name, with lock state and today’s usage',
        tags: ['extensions'],
        querystring: Type.Object({ limit: Type.Optional(Limit(500, 100)), cursor: Type.Optional(CursorQuery) }, { additionalProperties: false }),
        response: { 200: Page(ExtensionSummarySchema), ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 100;
      const [after] = request.query.cursor === undefined ? [undefined] : decodeCursor(request.query.cursor, ['string'] as const);
      const [entries, locked, stored] = await Promise.all([policies.listExtensions(), locks.listLocks(), policies.loadPolicySet()]);
      const records = new Map(entries.map((r) => [r.ext, r]));
      const lockOf = new Map(locked.map((l) => [l.ext, l]));
      const names = [...new Set([...records.keys(), ...lockOf.keys()])].sort().filter((ext) => after === undefined || ext > after);
      const page = names.slice(0, limit);
      const defaults = guard.resolvePolicySet(stored).defaults;
      const now = new Date();
      const items = await Promise.all(page.map((ext) => summary(ext, records.get(ext) ?? null, lockOf.get(ext) ?? null, defaults, now)));
      const last = page.at(-1);
      return { items, nextCursor: names.length > limit && last !== undefined ? encodeCursor([last]) : null };
    },
  );

  app.get(
    '/extensions/:ext',
    {
      schema: {
        summary: 'An extension’s overrides, its effective policy (merged over the defaults) and its lock',
        description: 'An extension without an entry of its own answers too (stored: false), with the defaults as its effective policy.',
        tags: ['extensions'],
        params: ExtParams,
        response: { 200: ExtensionSchema, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const record = await policies.getExtension(request.params.ext);
      if (record) reply.header('etag', etag(record.version));
      return view(request.params.ext, record);
    },
  );

  app.put(
    '/extensions/:ext',
    {
      schema: {
        summary: 'Replace an extension’s overrides',
        description: 'The merged, effective policy is validated; on any problem nothing is stored (400, fields named). 201 when the entry is new.',
        tags: ['extensions'],
        params: ExtParams,
        headers: IfMatchHeaders,
        body: PolicyOverridesSchema,
        response: { 200: ExtensionSchema, 201: ExtensionSchema, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const { ext } = request.params;
      return written(reply, ext, await write(ext, actor(request), request.headers['if-match'], () => request.body as PolicyOverrides));
    },
  );

  app.patch(
    '/extensions/:ext',
    {
      schema: {
        summary: 'Change part of an extension’s overrides (JSON merge patch, RFC 7396)',
        description: 'Content-Type application/merge-patch+json or application/json. A patch of an extension without an entry starts from {}.',
        tags: ['extensions'],
        params: ExtParams,
        headers: IfMatchHeaders,
        body: MergePatchSchema,
        response: { 200: ExtensionSchema, 201: ExtensionSchema, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const { ext } = request.params;
      const patch = request.body;
      return written(reply, ext, await write(ext, actor(request), request.headers['if-match'], (current) => mergePatch(current?.overrides ?? {}, patch) as PolicyOverrides));
    },
  );

  app.delete(
    '/extensions/:ext',
    {
      schema: {
        summary: 'Delete an extension’s entry: it inherits the defaults again (its lock, if any, stays)',
        tags: ['extensions'],
        params: ExtParams,
        headers: IfMatchHeaders,
        response: { 204: Type.Null({ description: 'deleted' }), ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const { ext } = request.params;
      await policies.updateExtension(ext, actor(request), (current) => {
        if (current === null) throw notFound(`extension ${ext} has no entry of its own`);
        checkIfMatch(request.headers['if-match'], current.version);
        return null;
      });
      reply.code(204);
      return null;
    },
  );

  app.get(
    '/extensions/:ext/history',
    {
      schema: {
        summary: 'Every change of an extension’s policy and lock: who, when, before and after; newest first',
        tags: ['extensions'],
        params: ExtParams,
        querystring: Type.Object({ limit: Type.Optional(Limit(500, 50)), cursor: Type.Optional(CursorQuery) }, { additionalProperties: false }),
        response: { 200: Page(ChangeSchema), ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const { ext } = request.params;
      const limit = request.query.limit ?? 50;
      const [beforeId] = request.query.cursor === undefined ? [undefined] : decodeCursor(request.query.cursor, ['number'] as const);
      const changes = await policies.policyHistory([`extension:${ext}`, `lock:${ext}`], { limit: limit + 1, beforeId });
      const page = changes.slice(0, limit);
      const last = page.at(-1);
      return { items: page.map(changeView), nextCursor: changes.length > limit && last ? encodeCursor([last.id]) : null };
    },
  );

  const LockResultSchema = Type.Object({ ext: Type.String(), lock: Nullable(LockSchema), changed: Type.Boolean() });

  app.post(
    '/extensions/:ext/lock',
    {
      schema: {
        summary: 'Lock an extension: every call but emergency numbers gets extension_locked',
        tags: ['extensions'],
        params: ExtParams,
        body: Type.Object(
          { reason: Type.String({ minLength: 1, maxLength: 500 }) },
          { additionalProperties: false, description: 'optional: with no body at all, the reason is `locked by admin token "NAME"`' },
        ),
        response: { 200: LockResultSchema, ...ERROR_RESPONSES },
      },
      // Before validation, so that a request with no body (what a quick curl sends) still records who locked it.
      preValidation: async (request) => {
        request.body ??= { reason: `locked by admin token "${actor(request)}"` };
      },
    },
    async (request) => {
      const { ext } = request.params;
      await locks.lock(ext, request.body.reason, actor(request));
      return { ext, lock: lockView(await locks.getLock(ext)), changed: true };
    },
  );

  app.post(
    '/extensions/:ext/unlock',
    {
      schema: {
        summary: 'Unlock an extension (changed: false if it was not locked)',
        tags: ['extensions'],
        params: ExtParams,
        response: { 200: LockResultSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const { ext } = request.params;
      const changed = await locks.unlock(ext, actor(request));
      return { ext, lock: null, changed };
    },
  );
};
