import { defineCheck, fail, pass, skip, type AttemptFacts, type CheckContext, type FraudCheckResult } from './check.js';
import { DAY_MS, WINDOW_MS } from '../../domain/windows.js';
import { VELOCITY_SECTION, type Velocity } from './velocity.js';

declare module '../../domain/decision.js' {
  interface CheckNames {
    novelty: true;
  }
  interface ReasonCodes {
    velocity_exceeded: true;
  }
}

/** ISO 3166-1 has fewer codes than this: new countries in an hour never count past it. */
const COUNTRY_CODES = 300;

export interface NoveltyResult extends FraudCheckResult {
  /** This call is the extension's first to its country in noveltyDays. */
  novel: boolean;
}

export type NoveltyCheck = (ctx: CheckContext, facts: AttemptFacts) => NoveltyResult;

/**
 * A call placed to a country the extension has not called in `noveltyDays` is flagged (a warn
 * alert); more than `maxNewCountriesPerHour` such countries in any hour is a breach. The home
 * country is never new: a fresh install would flag every extension's first call.
 */
export function compileNovelty(velocity: Velocity): NoveltyCheck {
  const { noveltyDays: days, maxNewCountriesPerHour: max } = velocity;
  const none = (outcome: NoveltyResult['outcome']): NoveltyResult => ({ outcome, findings: [], counts: {}, novel: false });

  return (ctx, facts) => {
    if (days === null) return none(skip('novelty', 'novelty is off'));
    const counts = ctx.usage.velocity;
    if (!counts) return none(skip('novelty', 'not counted'));
    const { number } = ctx;
    const country = number.international ? number.country : null;
    if (!country) return none(pass('novelty', number.international ? 'an international network, no country' : 'a domestic call'));
    if (!facts.wouldPlace) return none(skip('novelty', `not placed, so ${country} is not counted`));
    if (counts.countryKnown) return none(pass('novelty', `${country} was called in the last ${days} days`));

    const count = counts.newCountriesLastHour + 1;
    const result = (outcome: NoveltyResult['outcome'], findings: NoveltyResult['findings']): NoveltyResult => ({
      outcome,
      findings,
      counts: { newCountriesPerHour: count },
      novel: true,
    });
    if (max !== null && count > max) {
      const detail = `${count} countries called for the first time in ${days} days within the last hour (${country} is the latest), limit ${max}`;
      return result(fail('novelty', 'velocity_exceeded', detail), [
        { check: 'novelty', counter: 'newCountriesPerHour', level: 'breach', count, limit: max, windowMs: WINDOW_MS.newCountriesPerHour, detail, country },
      ]);
    }
    const of = max === null ? '' : `, limit ${max}`;
    const detail = `first call to ${country} in ${days} days (${count} new in the last hour${of})`;
    return result({ ...pass('novelty', `warning: ${detail}`), warn: true }, [
      { check: 'novelty', counter: 'newCountry', level: 'warn', count, limit: max ?? count, windowMs: days * DAY_MS, detail, country },
    ]);
  };
}

export const novelty = defineCheck({
  name: 'novelty',
  kind: 'fraud',
  reasons: { velocity_exceeded: 'too many calls in a short time' },
  section: VELOCITY_SECTION,
  storeReads: ({ noveltyDays, maxNewCountriesPerHour }) => ({
    noveltyMs: noveltyDays === null ? null : noveltyDays * DAY_MS,
    // Without a limit the count is still reported, and a country list bounds it.
    caps: { newCountriesPerHour: noveltyDays === null ? null : (maxNewCountriesPerHour ?? COUNTRY_CODES) },
  }),
  compile: ({ section }) => ({ evaluate: compileNovelty(section), locksOnBreach: section.lockOnBreach }),
});
