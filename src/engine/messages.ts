import type { ReasonCode } from '../domain/decision.js';
import type { NormalizedNumber } from '../domain/number.js';

/** The short sentence behind each reason, for DIALGUARD_MESSAGE and logs; reason codes stay the contract. */
const DENIAL_TEXT: Record<Exclude<ReasonCode, 'allowed' | 'emergency'>, string> = {
  extension_unknown: 'the extension is not configured',
  extension_disabled: 'the extension is disabled',
  extension_locked: 'the extension is locked',
  number_invalid: 'the number is not valid',
  destination_country_denied: 'the destination country is not allowed',
  destination_type_denied: 'this type of number is not allowed',
  destination_high_risk: 'the destination is on the high-risk list',
  destination_prefix_blocked: 'the number is blocked',
  outside_schedule: 'outside the allowed hours',
  source_not_allowed: 'the phone is not on an allowed network',
  source_country_denied: 'the phone is in a country that is not allowed',
  source_unknown: 'the phone address is unknown',
  voicemail_callout_denied: 'voicemail may not place this call',
  budget_concurrency: 'too many calls at once',
  budget_daily_spend: 'the daily spend budget is used up',
  budget_monthly_spend: 'the monthly spend budget is used up',
  budget_daily_minutes: 'the daily minutes are used up',
  velocity_exceeded: 'too many calls in a short time',
  source_concurrency: 'too many calls at once from this network address',
  destination_spread: 'too many extensions called this number recently',
  guard_error: 'the call guard could not decide',
};

const regionNames = new Intl.DisplayNames(['en'], { type: 'region' });

const names = new Map<string, string>();

/**
 * How a message names the destination: its country, or for a number of no country what it
 * is ("satellite number +881…"), so that a denial never reads as one about a country.
 */
export function destinationName({ country, e164, type, digits }: Pick<NormalizedNumber, 'country' | 'e164' | 'type' | 'digits'>): string {
  if (!country) {
    // A valid number of no country is one of the ITU's shared codes; an invalid one has no type.
    if (e164 === null || type === null) return e164 ?? digits;
    return `${type === 'SATELLITE' ? 'satellite' : 'international network'} number ${e164}`;
  }
  let name = names.get(country);
  if (name === undefined) {
    try {
      name = regionNames.of(country) ?? country;
    } catch {
      name = country;
    }
    // At most the ~250 region codes: a bounded cache.
    names.set(country, name);
  }
  return name;
}

export function denialMessage(reason: ReasonCode, destination: string): string {
  if (reason === 'allowed' || reason === 'emergency') return `Call to ${destination} allowed`;
  return `Call to ${destination} denied: ${DENIAL_TEXT[reason]}`;
}

export function allowMessage(destination: string, limitSeconds: number): string {
  const minutes = limitSeconds / 60;
  const limit = Number.isInteger(minutes) ? `${minutes} min` : `${limitSeconds} s`;
  return `Call to ${destination} allowed, limit ${limit}`;
}
