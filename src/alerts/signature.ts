import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header every webhook request carries when DIALGUARD_ALERT_SECRET is set. */
export const SIGNATURE_HEADER = 'x-dialguard-signature';

/** A receiver should refuse a signature older than this: a captured request cannot be replayed later. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

function digest(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/**
 * `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed with the secret>`: the time is
 * signed with the body, so the signature proves both who sent it and when.
 */
export function signatureHeader(secret: string, body: string, timestamp: number): string {
  return `t=${timestamp},v1=${digest(secret, timestamp, body)}`;
}

export interface VerifyOptions {
  /** Unix seconds; defaults to the clock. */
  now?: number;
  toleranceSeconds?: number;
}

/** What a receiver runs on the raw body it got: true only for a fresh, untampered request. */
export function verifySignature(secret: string, header: string | undefined, body: string, options: VerifyOptions = {}): boolean {
  if (!header) return false;
  const parts = new Map(header.split(',').map((part) => part.trim().split('=', 2) as [string, string | undefined]));
  const timestamp = Number(parts.get('t'));
  const given = parts.get('v1');
  if (!Number.isInteger(timestamp) || !given || !/^[0-9a-f]{64}$/.test(given)) return false;
  const now = options.now ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - timestamp) > (options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS)) return false;
  return timingSafeEqual(Buffer.from(given, 'hex'), Buffer.from(digest(secret, timestamp, body), 'hex'));
}
