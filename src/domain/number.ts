export const NUMBER_TYPES = [
  'FIXED_LINE',
  'MOBILE',
  'FIXED_LINE_OR_MOBILE',
  'TOLL_FREE',
  'PREMIUM_RATE',
  'SHARED_COST',
  'VOIP',
  'PERSONAL_NUMBER',
  'PAGER',
  'UAN',
  'VOICEMAIL',
  'SATELLITE',
  'INTERNATIONAL_NETWORK',
  'UNKNOWN',
] as const;
export type NumberType = (typeof NUMBER_TYPES)[number];

/** A dialled number after the home country's dialling rules were applied. */
export interface NormalizedNumber {
  /** Digits after the access prefix was stripped. */
  digits: string;
  e164: string | null;
  /** ISO 3166 alpha-2, null for international networks (+870, +881…) or unknown. */
  country: string | null;
  /** libphonenumber-js type (FIXED_LINE, MOBILE, PREMIUM_RATE…), or SATELLITE / INTERNATIONAL_NETWORK, or UNKNOWN. */
  type: NumberType | null;
  valid: boolean;
  international: boolean;
}
