import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { MAX_AMOUNT, MAX_CALL_SECONDS, MAX_CONCURRENT_CALLS, MAX_DAILY_MINUTES, MAX_NOVELTY_DAYS, MAX_SPREAD_WINDOW_HOURS, MAX_WINDOW_COUNT } from '../bounds.js';

/**
 * The policy shape of the design contract, as TypeBox schemas: the same objects validate
 * imports, the admin API's bodies and produce its OpenAPI document.
 *
 * Every number has a finite maximum (src/bounds.ts).
 *
 * `PolicySchema` is a complete, effective policy. `PolicyOverridesSchema` is what an
 * extension stores: any subset, merged over the defaults (objects merge, arrays replace).
 */

export const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

const Strings = (description: string) => Type.Array(Type.String(), { description });
/** A budget: a number from 0 to `maximum`, or null for no limit. */
const Limit = (maximum: number, description: string) =>
  Type.Union([Type.Number({ minimum: 0, maximum }), Type.Null()], { description: `${description}; null means no limit` });

export const WindowSchema = Type.Object(
  {
    days: Type.Array(Type.Union(DAYS.map((d) => Type.Literal(d))), { minItems: 1 }),
    from: Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$', description: 'HH:MM, local time of the policy timezone' }),
    to: Type.String({
      pattern: '^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$',
      description: 'HH:MM; 24:00 is the end of the day; a window may cross midnight (22:00 to 06:00)',
    }),
  },
  { additionalProperties: false },
);

export const DestinationsSchema = Type.Object(
  {
    allowCountries: Strings('ISO 3166 alpha-2 codes a call may go to; "*" allows any country'),
    denyCountries: Strings('ISO 3166 alpha-2 codes always denied, even if allowed above'),
    denyTypes: Strings('number types denied (PREMIUM_RATE, SHARED_COST, SATELLITE, INTERNATIONAL_NETWORK, …)'),
    allowHighRisk: Type.Boolean({ description: 'allow destinations on the high-risk list' }),
    blockedPrefixes: Strings('E.164 prefixes always denied for this policy ("+88213")'),
  },
  { additionalProperties: false },
);

export const ScheduleSchema = Type.Object(
  {
    timezone: Type.String({ description: 'IANA time zone of the windows and of the budget day and month' }),
    appliesTo: Type.Union([Type.Literal('all'), Type.Literal('international'), Type.Literal('none')], {
      description: 'which calls must fall inside a window',
    }),
    windows: Type.Array(WindowSchema),
  },
  { additionalProperties: false },
);

export const GeofenceSchema = Type.Object(
  {
    allowCidrs: Strings('source networks always allowed (IPv4 and IPv6 CIDR or single address)'),
    allowCountries: Strings('GeoIP countries a source may be in; "*" allows any'),
    unknownSource: Type.Union([Type.Literal('deny'), Type.Literal('allow')], {
      description: 'what an empty or unparsable source address gets',
    }),
  },
  { additionalProperties: false },
);

export const BudgetSchema = Type.Object(
  {
    currency: Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 code of the budgets and of the rate table ("USD")' }),
    dailySpend: Limit(MAX_AMOUNT, 'spend per day'),
    monthlySpend: Limit(MAX_AMOUNT, 'spend per calendar month'),
    dailyMinutes: Limit(MAX_DAILY_MINUTES, 'call minutes per day'),
    maxConcurrent: Type.Union([Type.Integer({ minimum: 0, maximum: MAX_CONCURRENT_CALLS }), Type.Null()], { description: 'simultaneous calls; null means no limit' }),
    maxCallSeconds: Type.Integer({ minimum: 1, maximum: MAX_CALL_SECONDS, description: 'longest single call' }),
    minCallSeconds: Type.Integer({ minimum: 1, maximum: MAX_CALL_SECONDS, description: 'a call whose budget allows less than this is denied' }),
  },
  { additionalProperties: false },
);

export const NumberingSchema = Type.Object(
  {
    accessPrefix: Type.String({ pattern: '^[0-9*#]*$', description: 'trunk access digits stripped before parsing ("9")' }),
  },
  { additionalProperties: false },
);

export const VoicemailCalloutSchema = Type.Union([Type.Literal('deny'), Type.Literal('domestic'), Type.Literal('allow')]);

const Count = (description: string) =>
  Type.Union([Type.Integer({ minimum: 1, maximum: MAX_WINDOW_COUNT }), Type.Null()], { description: `${description}, in any sliding window; null means no limit` });

export const VelocitySchema = Type.Object(
  {
    maxAttemptsPerMinute: Count('calls placed in 60 s'),
    maxInternationalPerHour: Count('international calls placed in an hour'),
    maxDistinctDestinationsPerHour: Count('distinct numbers called in an hour'),
    maxDeniedPerHour: Count('attempts denied by the policy (destination, schedule, source, voicemail, invalid number) in an hour'),
    maxNewCountriesPerHour: Count('countries called for the first time in noveltyDays, in an hour'),
    noveltyDays: Type.Union([Type.Integer({ minimum: 1, maximum: MAX_NOVELTY_DAYS }), Type.Null()], {
      description: 'a call to a country not called in this many days is flagged; null turns novelty off',
    }),
    warnRatio: Type.Union([Type.Number({ minimum: 0.01, maximum: 1 }), Type.Null()], {
      description: 'a counter reaching this fraction of its limit raises a warn alert; null: no warnings',
    }),
    lockOnBreach: Type.Boolean({ description: 'a breach also locks the extension until an admin unlocks it' }),
  },
  { additionalProperties: false },
);

export const SourcesSchema = Type.Object(
  {
    maxConcurrentPerSource: Type.Integer({
      minimum: 0,
      maximum: MAX_CONCURRENT_CALLS,
      description: 'calls at once from one signalling source address, across every extension (an office behind NAT is one address); 0 turns the check off',
    }),
    exemptCidrs: Strings('source networks whose addresses are not limited (IPv4 and IPv6 CIDR or single address): the PBX, an SBC, an office NAT'),
  },
  { additionalProperties: false },
);

export const SpreadSchema = Type.Object(
  {
    maxExtensionsPerDestination: Type.Integer({
      minimum: 0,
      maximum: MAX_WINDOW_COUNT,
      description: 'distinct extensions that may call one number within windowHours, site-wide; 0 turns the check off',
    }),
    windowHours: Type.Integer({ minimum: 1, maximum: MAX_SPREAD_WINDOW_HOURS, description: 'the sliding window, in hours' }),
    internationalOnly: Type.Boolean({ description: 'count calls abroad only (a domestic helpdesk number is called by everyone)' }),
  },
  { additionalProperties: false },
);

export const ModeSchema = Type.Union([Type.Literal('enforce'), Type.Literal('shadow')], {
  description: 'shadow: every check runs and is audited, but every call is allowed',
});

const policyProperties = {
  enabled: Type.Boolean(),
  numbering: NumberingSchema,
  destinations: DestinationsSchema,
  schedule: ScheduleSchema,
  geofence: GeofenceSchema,
  voicemailCallout: VoicemailCalloutSchema,
  budget: BudgetSchema,
  velocity: VelocitySchema,
  sources: SourcesSchema,
  spread: SpreadSchema,
  mode: ModeSchema,
};

export const PolicySchema = Type.Object(policyProperties, { additionalProperties: false, $id: 'Policy' });

/** Any subset of a policy, nested objects partial too. */
function deepPartial<T extends TSchema>(schema: T): TSchema {
  if (schema.type === 'object' && schema.properties) {
    const props: Record<string, TSchema> = {};
    for (const [k, v] of Object.entries(schema.properties as Record<string, TSchema>)) props[k] = Type.Optional(deepPartial(v));
    return Type.Object(props, { additionalProperties: false });
  }
  return schema;
}

export const PolicyOverridesSchema = deepPartial(PolicySchema);

export type Policy = Static<typeof PolicySchema>;
export type EffectivePolicy = Policy;
export type PolicyWindow = Static<typeof WindowSchema>;
export type Day = (typeof DAYS)[number];

type DeepPartial<T> = T extends unknown[] ? T : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;
export type PolicyOverrides = DeepPartial<Policy>;
