import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { SourcesView } from '../../intrusion/intrusion.js';
import { ERROR_RESPONSES } from '../errors.js';
import { IsoTime, Limit, Nullable, iso } from '../schemas.js';

const Country = Nullable(Type.String({ description: 'ISO 3166 alpha-2 code from GeoIP; null for private, loopback and unlisted addresses' }));

const Window = {
  windowHours: Type.Number({ description: 'the window the failures are counted over (policy intrusion.windowHours)' }),
  failureThreshold: Type.Integer({ description: 'failures in the window that make a source suspicious (policy intrusion.failureThreshold; 0: off)' }),
};

const SourceSchema = Type.Object({
  address: Type.String(),
  network: Type.String({ description: 'its /24 (IPv4) or /64 (IPv6)' }),
  country: Country,
  failures: Type.Integer({ description: 'failed authentication attempts in the window (the events of one request count once)' }),
  successes: Type.Integer({ description: 'successful authentications in the window' }),
  accounts: Type.Array(Type.String(), { description: 'accounts tried, in the order first tried, at most 50' }),
  firstSeen: IsoTime,
  lastSeen: IsoTime,
});

const CountrySchema = Type.Object({ country: Country, failures: Type.Integer(), sources: Type.Integer({ description: 'addresses with failures in the window' }) });

const NewPlaceSchema = Type.Object({
  at: IsoTime,
  account: Type.String(),
  address: Type.String(),
  country: Country,
  newCountry: Type.Boolean({ description: 'a country never seen for this account (after its learning period)' }),
  newAddress: Type.Boolean({ description: 'an address never seen for this account' }),
});

const SuspiciousSchema = Type.Object({
  entry: Type.String({ description: 'an address, or a /24 or /64 when the network as a whole passes the threshold' }),
  kind: Type.Union([Type.Literal('address'), Type.Literal('network')]),
  failures: Type.Integer(),
  country: Country,
});

const LimitQuery = (max: number, fallback: number) => Type.Object({ limit: Type.Optional(Limit(max, fallback)) }, { additionalProperties: false });

export interface SourceRoutesDeps {
  sources: SourcesView;
}

/** What Asterisk's security events say about who is attacking the PBX (src/intrusion). */
export const sourceRoutes: FastifyPluginAsyncTypebox<SourceRoutesDeps> = async (app, { sources }) => {
  const window = async () => {
    const policy = await sources.policy();
    return { windowHours: policy.windowHours, failureThreshold: policy.failureThreshold };
  };

  app.get(
    '/sources/top',
    {
      schema: {
        summary: 'The sources with the most failed authentications in the window, most first',
        tags: ['sources'],
        querystring: LimitQuery(100, 20),
        response: { 200: Type.Object({ ...Window, items: Type.Array(SourceSchema) }), ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const rows = await sources.topSources(request.query.limit ?? 20);
      return { ...(await window()), items: rows.map((s) => ({ ...s, firstSeen: iso(s.firstSeen), lastSeen: iso(s.lastSeen) })) };
    },
  );

  app.get(
    '/sources/countries',
    {
      schema: {
        summary: 'Failed authentications in the window by the sources’ country, most first',
        tags: ['sources'],
        response: { 200: Type.Object({ ...Window, items: Type.Array(CountrySchema) }), ...ERROR_RESPONSES },
      },
    },
    async () => ({ ...(await window()), items: await sources.countries() }),
  );

  app.get(
    '/sources/new-places',
    {
      schema: {
        summary: 'Recent successful authentications from an address or a country new for their account, newest first',
        tags: ['sources'],
        querystring: LimitQuery(200, 50),
        response: { 200: Type.Object({ items: Type.Array(NewPlaceSchema) }), ...ERROR_RESPONSES },
      },
    },
    async (request) => ({
      items: sources.newPlaces(request.query.limit ?? 50).map(({ at, account, address, country, newCountry, newAddress }) => ({ at: iso(at), account, address, country, newCountry, newAddress })),
    }),
  );

  app.get(
    '/sources/suspicious',
    {
      schema: {
        summary: 'The suspicious sources now: what the source_suspicious check denies and a firewall should drop. Trusted networks are never listed',
        description:
          '`format=plain` answers `text/plain`: one address or CIDR range per line and nothing else, for `ipset restore`-style scripts or an nftables set (see the README).',
        tags: ['sources'],
        querystring: Type.Object(
          { format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('plain')], { description: 'json (default) or plain' })) },
          { additionalProperties: false },
        ),
        response: {
          200: {
            description: 'the list',
            content: {
              'application/json': { schema: Type.Object({ ...Window, items: Type.Array(SuspiciousSchema) }) },
              'text/plain': { schema: Type.String({ description: 'format=plain: one address or range per line' }) },
            },
          },
          ...ERROR_RESPONSES,
        },
      },
    },
    async (request, reply) => {
      const items = await sources.suspicious();
      if (request.query.format === 'plain') {
        const text = items.map((i) => `${i.entry}\n`).join('');
        return reply.type('text/plain; charset=utf-8').serializer((payload: unknown) => String(payload)).send(text);
      }
      return { ...(await window()), items };
    },
  );
};
