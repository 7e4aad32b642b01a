import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Guard } from '../../guard/guard.js';
import { HighRiskSchema, RateEntrySchema } from '../../policy/document.js';
import type { PolicySettingKey, PolicySettings, PolicyStore } from '../../store/roles/policies.js';
import { actor } from '../authentication.js';
import { ERROR_RESPONSES } from '../errors.js';
import { checkBlockedPrefixes, checkHighRisk, checkRates } from '../policy-checks.js';
import { checkIfMatch, etag } from '../preconditions.js';
import { parseRatesCsv } from '../rates-csv.js';
import { IfMatchHeaders } from '../schemas.js';

const Version = Type.Integer({ description: 'policy version of the list’s last change (also the ETag); 0 if never changed' });
const Source = Type.Union([Type.Literal('site'), Type.Literal('builtin')], { description: 'builtin until the site sets the list' });

const RatesBody = Type.Object({ rates: Type.Array(RateEntrySchema) }, { additionalProperties: false });
const BlockedPrefixesBody = Type.Object(
  { blockedPrefixes: Type.Array(Type.String(), { description: 'E.164 prefixes denied for every extension ("+88213")' }) },
  { additionalProperties: false },
);

/** The site-wide lists: rates, blocked prefixes and high-risk destinations. Each write is checked whole before it is stored. */
export const listRoutes: FastifyPluginAsyncTypebox<{ guard: Guard; policies: Pick<PolicyStore, 'loadPolicySet' | 'readSetting' | 'updateSetting'> }> = async (
  app,
  { guard, policies },
) => {
  app.addContentTypeParser('text/csv', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseRatesCsv(body as string));
    } catch (error) {
      done(error as Error, undefined);
    }
  });

  /** Stores `value` under `key` if If-Match allows and `check` passes, in one transaction; returns the new version. */
  const put = async <K extends PolicySettingKey>(key: K, who: string, ifMatch: string | undefined, value: PolicySettings[K], check: () => void): Promise<number> => {
    const stored = await policies.updateSetting(key, who, (current) => {
      checkIfMatch(ifMatch, current.version);
      check();
      return value;
    });
    return stored.version;
  };

  const RatesSchema = Type.Object({ version: Version, source: Source, rates: Type.Array(RateEntrySchema) });
  const ratesView = async () => {
    const [{ value, version }, stored] = await Promise.all([policies.readSetting('rates'), policies.loadPolicySet()]);
    return { version, source: value === null ? ('builtin' as const) : ('site' as const), rates: guard.resolvePolicySet(stored).rates };
  };

  app.get(
    '/rates',
    { schema: { summary: 'The rate table (longest E.164 prefix wins)', tags: ['lists'], response: { 200: RatesSchema, ...ERROR_RESPONSES } } },
    async (_request, reply) => {
      const view = await ratesView();
      reply.header('etag', etag(view.version));
      return view;
    },
  );

  app.put(
    '/rates',
    {
      schema: {
        summary: 'Replace the rate table: JSON, or CSV (text/csv) of prefix,perMinute,increment[,minimum]',
        tags: ['lists'],
        consumes: ['application/json', 'text/csv'],
        headers: IfMatchHeaders,
        body: RatesBody,
        response: { 200: RatesSchema, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const { rates } = request.body;
      const version = await put('rates', actor(request), request.headers['if-match'], rates, () => checkRates(rates));
      reply.header('etag', etag(version));
      return { version, source: 'site' as const, rates };
    },
  );

  const BlockedPrefixesSchema = Type.Object({ version: Version, blockedPrefixes: Type.Array(Type.String()) });

  app.get(
    '/blocked-prefixes',
    {
      schema: {
        summary: 'E.164 prefixes denied for every extension (destination_prefix_blocked)',
        tags: ['lists'],
        response: { 200: BlockedPrefixesSchema, ...ERROR_RESPONSES },
      },
    },
    async (_request, reply) => {
      const [{ version }, stored] = await Promise.all([policies.readSetting('blockedPrefixes'), policies.loadPolicySet()]);
      reply.header('etag', etag(version));
      return { version, blockedPrefixes: guard.resolvePolicySet(stored).blockedPrefixes };
    },
  );

  app.put(
    '/blocked-prefixes',
    {
      schema: {
        summary: 'Replace the site-wide blocked prefixes',
        tags: ['lists'],
        headers: IfMatchHeaders,
        body: BlockedPrefixesBody,
        response: { 200: BlockedPrefixesSchema, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const { blockedPrefixes } = request.body;
      const version = await put('blockedPrefixes', actor(request), request.headers['if-match'], blockedPrefixes, () => checkBlockedPrefixes(blockedPrefixes));
      reply.header('etag', etag(version));
      return { version, blockedPrefixes };
    },
  );

  const HighRiskViewSchema = Type.Object({ version: Version, source: Source, countries: Type.Array(Type.String()), prefixes: Type.Array(Type.String()) });

  app.get(
    '/high-risk',
    {
      schema: {
        summary: 'High-risk destinations (denied unless a policy sets destinations.allowHighRisk)',
        tags: ['lists'],
        response: { 200: HighRiskViewSchema, ...ERROR_RESPONSES },
      },
    },
    async (_request, reply) => {
      const [{ value, version }, stored] = await Promise.all([policies.readSetting('highRisk'), policies.loadPolicySet()]);
      reply.header('etag', etag(version));
      return { version, source: value === null ? ('builtin' as const) : ('site' as const), ...guard.resolvePolicySet(stored).highRisk };
    },
  );

  app.put(
    '/high-risk',
    {
      schema: {
        summary: 'Replace the high-risk list (the built-in one is replaced, not extended: start from GET)',
        tags: ['lists'],
        headers: IfMatchHeaders,
        body: HighRiskSchema,
        response: { 200: HighRiskViewSchema, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const list = request.body;
      const version = await put('highRisk', actor(request), request.headers['if-match'], list, () => checkHighRisk(list));
      reply.header('etag', etag(version));
      return { version, source: 'site' as const, ...list };
    },
  );
};
