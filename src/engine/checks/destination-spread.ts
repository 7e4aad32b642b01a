import type { Policy } from '../../policy/schema.js';
import type { CheckOutcome } from '../../domain/decision.js';
import type { FraudFinding } from '../../domain/fraud.js';
import type { NormalizedNumber } from '../../domain/number.js';
import type { SiteQuery } from '../../domain/site.js';
import { HOUR_MS } from '../../domain/windows.js';
import { fail, pass, skip, type CheckContext } from './check.js';

export interface SpreadResult {
  outcome: CheckOutcome;
  /** A breach: an alert, one per number while the window lasts. */
  findings: FraudFinding[];
}

export interface DestinationSpreadCheck {
  /** What the store reads for a call to `number`; null: nothing. */
  query(number: NormalizedNumber): SiteQuery['spread'];
  check(ctx: CheckContext): SpreadResult;
}

/**
 * Distinct extensions that placed a call to one number in the last `windowHours`, site-wide:
 * an IRSF number is dialled from every account an attacker holds. A call that would make one
 * extension more than `maxExtensionsPerDestination` is denied and raises an alert; an
 * extension that already called the number in the window goes on calling it. 0 turns it off.
 */
export function compileDestinationSpread(spread: Policy['spread']): DestinationSpreadCheck {
  const limit = spread.maxExtensionsPerDestination;
  const windowMs = spread.windowHours * HOUR_MS;
  const within = spread.windowHours === 1 ? 'the last hour' : `the last ${spread.windowHours} hours`;
  const applies = (number: NormalizedNumber): boolean => number.e164 !== null && (number.international || !spread.internationalOnly);
  return {
    query: (number) => (limit === 0 || !applies(number) ? null : { e164: number.e164 as string, windowMs, cap: limit }),
    check(ctx) {
      const { number } = ctx;
      if (limit === 0) return { outcome: skip('destination_spread', 'no limit on extensions per number'), findings: [] };
      if (!applies(number)) return { outcome: skip('destination_spread', number.e164 === null ? 'no E.164 number' : 'a domestic call'), findings: [] };
      const seen = ctx.usage.site?.spread;
      if (!seen) return { outcome: skip('destination_spread', 'not counted'), findings: [] };
      const e164 = number.e164 as string;
      if (seen.includesCaller) {
        return { outcome: pass('destination_spread', `${seen.extensions}/${limit} extensions called ${e164} in ${within}, this one among them`), findings: [] };
      }
      const count = seen.extensions + 1;
      if (count <= limit) return { outcome: pass('destination_spread', `${count}/${limit} extensions calling ${e164} in ${within}`), findings: [] };
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
      return { outcome: fail('destination_spread', 'destination_spread', detail), findings: [finding] };
    },
  };
}
