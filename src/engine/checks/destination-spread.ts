import { Type, type Static } from '@sinclair/typebox';
import { MAX_SPREAD_WINDOW_HOURS, MAX_WINDOW_COUNT } from '../../bounds.js';
import type { FraudFinding } from '../../domain/fraud.js';
import type { NormalizedNumber } from '../../domain/number.js';
import type { SiteQuery } from '../../domain/site.js';
import { HOUR_MS } from '../../domain/windows.js';
import { defineCheck, fail, pass, skip, type FraudCheck, type FraudCheckResult } from './check.js';

declare module '../../domain/decision.js' {
  interface CheckNames {
    destination_spread: true;
  }
  interface ReasonCodes {
    destination_spread: true;
  }
}

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

type Spread = Static<typeof SpreadSchema>;

const applies = (spread: Spread, number: NormalizedNumber): boolean => number.e164 !== null && (number.international || !spread.internationalOnly);

/**
 * Distinct extensions that placed a call to one number in the last `windowHours`, site-wide:
 * an IRSF number is dialled from every account an attacker holds. A call that would make one
 * extension more than `maxExtensionsPerDestination` is denied and raises an alert (one per
 * number while the window lasts); an extension that already called the number in the window
 * goes on calling it, and nothing is locked: the extensions may be colleagues calling a
 * supplier. 0 turns the check off.
 */
export function compileDestinationSpread(spread: Spread): FraudCheck {
  const limit = spread.maxExtensionsPerDestination;
  const windowMs = spread.windowHours * HOUR_MS;
  const within = spread.windowHours === 1 ? 'the last hour' : `the last ${spread.windowHours} hours`;
  const result = (outcome: FraudCheckResult['outcome'], findings: FraudFinding[] = []): FraudCheckResult => ({ outcome, findings, counts: {} });
  return (ctx, facts) => {
    const { number } = ctx;
    if (limit === 0) return result(skip('destination_spread', 'no limit on extensions per number'));
    if (!applies(spread, number)) return result(skip('destination_spread', number.e164 === null ? 'no E.164 number' : 'a domestic call'));
    const seen = ctx.usage.site?.spread;
    if (!seen) return result(skip('destination_spread', 'not counted'));
    const e164 = number.e164 as string;
    if (seen.includesCaller) return result(pass('destination_spread', `${seen.extensions}/${limit} extensions called ${e164} in ${within}, this one among them`));
    // Only a call that would be placed makes this extension one more.
    const count = seen.extensions + (facts.wouldPlace ? 1 : 0);
    if (!facts.wouldPlace || count <= limit) return result(pass('destination_spread', `${count}/${limit} extensions calling ${e164} in ${within}`));
    const detail = `${seen.extensions} other extensions called ${e164} in ${within}, limit ${limit}`;
    const finding: FraudFinding = {
      check: 'destination_spread',
      counter: 'extensionsPerDestination',
      level: 'breach',
      count,
      limit,
      windowMs,
      detail,
      destination: e164,
      ...(number.country ? { country: number.country } : {}),
    };
    return result(fail('destination_spread', 'destination_spread', detail), [finding]);
  };
}

export const destinationSpread = defineCheck({
  name: 'destination_spread',
  kind: 'fraud',
  reasons: { destination_spread: 'too many extensions called this number recently' },
  section: {
    key: 'spread',
    schema: SpreadSchema,
    /** Five colleagues calling one number abroad within the hour is rare; an IRSF run from stolen accounts is not. */
    defaults: () => ({ maxExtensionsPerDestination: 5, windowHours: 1, internationalOnly: true }),
  },
  form: [{ path: '/spread/maxExtensionsPerDestination', label: 'Extensions calling one number in the window' }],
  storeReads: (spread) => ({
    site: ({ number }): Partial<SiteQuery> => ({
      spread:
        spread.maxExtensionsPerDestination === 0 || !applies(spread, number)
          ? null
          : { e164: number.e164 as string, windowMs: spread.windowHours * HOUR_MS, cap: spread.maxExtensionsPerDestination },
    }),
  }),
  compile: ({ section }) => ({ evaluate: compileDestinationSpread(section), locksOnBreach: false }),
});
