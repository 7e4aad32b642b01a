import type { ReasonCode } from '../domain/decision.js';
import type { NormalizedNumber } from '../domain/number.js';
import { REASON_TEXT } from './checks/registry.js';

/** The engine's own denial; every check's sentences come from its module (REASON_TEXT). */
const GUARD_ERROR_TEXT = 'the call guard could not decide';

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
  const text = reason === 'guard_error' ? GUARD_ERROR_TEXT : REASON_TEXT.get(reason);
  return `Call to ${destination} denied: ${text ?? reason}`;
}

export function allowMessage(destination: string, limitSeconds: number): string {
  const minutes = limitSeconds / 60;
  const limit = Number.isInteger(minutes) ? `${minutes} min` : `${limitSeconds} s`;
  return `Call to ${destination} allowed, limit ${limit}`;
}
