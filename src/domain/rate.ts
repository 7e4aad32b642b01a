/** One line of the rate table: `+44` at 0.02 per minute, billed per 60 s. */
export interface Rate {
  /** E.164 prefix; `+` alone is the catch-all for unmatched destinations. */
  prefix: string;
  perMinute: number;
  /** Billing step in seconds after the first interval. */
  increment: number;
  /** First billed interval in seconds; defaults to `increment` (60/60, 30/6, 1/1 billing). */
  minimum?: number;
}

/** A rate ready for arithmetic: money in integer micro-units. */
export interface PricedRate {
  prefix: string;
  perMinuteMicros: number;
  increment: number;
  minimum: number;
}
