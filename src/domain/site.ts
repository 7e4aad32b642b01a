/**
 * Site-wide counters of one decision, across extensions: the calls in progress from the
 * request's signalling source (source_concurrency) and the extensions that called its
 * destination recently (destination_spread). The engine asks for them in its fraud query; the
 * store reads them in the decision's transaction, serialised so that a limit holds exactly.
 */
export interface SiteQuery {
  /** Active (unexpired, unsettled) reservations whose decision came from `ip`, read up to `cap`; null: not read. */
  source: { ip: string; cap: number } | null;
  /** Distinct extensions with a call placed to `e164` in the last `windowMs`, read up to `cap`; null: not read. */
  spread: { e164: string; windowMs: number; cap: number } | null;
}

/** What the store read for a SiteQuery. Neither count includes the attempt being decided. */
export interface SiteCounts {
  /** Calls in progress from the source address, every extension's; absent when not read. */
  sourceActiveCalls?: number;
  spread?: DestinationSpread;
}

export interface DestinationSpread {
  /** Distinct extensions that placed a call to the destination in the window, capped. */
  extensions: number;
  /** The calling extension is one of them: its call adds no new extension. */
  includesCaller: boolean;
}
