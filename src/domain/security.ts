/**
 * What Asterisk reports about authentication, whatever it came from (the `security` log channel,
 * AMI security events, PJSIP or chan_sip NOTICE lines in `messages`/`full`): one shape, so that
 * forensics, the live feed and the reputation tracker read the same facts.
 */
export type SecurityEventKind =
  /** A request for an account that does not exist (PJSIP InvalidAccountID, chan_sip "No matching peer found"). */
  | 'invalid_account'
  /** A wrong secret for an account (PJSIP ChallengeResponseFailed, InvalidPassword, "Wrong password", "Failed to authenticate"). */
  | 'failed_auth'
  /** An account authenticated (SuccessfulAuth, chan_sip "Registered SIP", PJSIP "Added contact"). */
  | 'successful_auth'
  /** A challenge was sent: not a failure by itself (every first request is challenged). */
  | 'challenge_sent'
  /** Any other security event (RequestNotAllowed, InvalidTransport…): kept for the report, never counted. */
  | 'other';

export type SecurityService = 'PJSIP' | 'SIP' | 'AMI' | 'IAX2' | (string & {});

export interface SecurityEvent {
  kind: SecurityEventKind;
  /** When it happened (EventTV, else the log line's time), ms since the epoch. */
  at: number;
  service: SecurityService;
  /** The account named (AccountID, the From/To user, the peer), or null when Asterisk said `<unknown>` or nothing. */
  account: string | null;
  /** The remote address without its port, as `src/net/address.ts` formats it; null when the source gave none. */
  address: string | null;
  /** Where it came from: the original event name or message, e.g. `ChallengeResponseFailed`, `Wrong password`. */
  detail: string;
  /** SessionID / Call-ID when known: ties the events of one request together. */
  session?: string;
}

/** Where the AMI feed and the security-log follower deliver what they parsed (src/intrusion's tracker). Synchronous: it only counts, in memory. */
export interface SecurityEventSink {
  accept(event: SecurityEvent): void;
}

/** A source's recent failures as the reputation tracker counts them when a call is decided. */
export interface SourceStanding {
  /** The address as given, formatted by `src/net/address.ts`. */
  address: string;
  /** Failed authentications (invalid_account, failed_auth) from the address in the window. */
  failures: number;
  /** Its /24 (IPv4) or /64 (IPv6), e.g. `203.0.113.0/24`, and that network's failures in the window. */
  network: string;
  networkFailures: number;
}

/** Read on the decision path: synchronous and in memory, so that the engine stays pure. */
export interface SourceReputation {
  standing(address: string, windowMs: number, at: number): SourceStanding;
}
