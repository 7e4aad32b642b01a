import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { SecurityEvent, SecurityEventKind } from '../../src/domain/security.js';
import { capturesDir } from './captures.js';

/**
 * The AMI security events of shared/asterisk/security (ami-security-events.json, verbatim
 * blocks) as SecurityEvents, for the reputation tracker's tests: the tracker is tested on what
 * Asterisk really sent, whatever feed delivers it in service.
 */
export type AmiBlock = Record<string, string>;

const KINDS: Record<string, SecurityEventKind> = {
  InvalidAccountID: 'invalid_account',
  ChallengeResponseFailed: 'failed_auth',
  InvalidPassword: 'failed_auth',
  SuccessfulAuth: 'successful_auth',
  ChallengeSent: 'challenge_sent',
};

export function captureBlocks(): AmiBlock[] {
  return JSON.parse(readFileSync(path.join(capturesDir, 'security', 'ami-security-events.json'), 'utf8')) as AmiBlock[];
}

/** `IPV4/UDP/127.0.0.5/5060` → `127.0.0.5`. */
const addressOf = (remote: string | undefined): string | null => (remote ? (remote.split('/')[2] ?? '').replace(/^\[|\]$/g, '') || null : null);

/** `2026-12-01T22:10:01.676+0000` → epoch ms. */
const timeOf = (tv: string): number => Date.parse(tv.replace(/([+-]\d\d)(\d\d)$/, '$1:$2'));

export function toSecurityEvent(block: AmiBlock): SecurityEvent | null {
  const name = block.Event;
  if (name === undefined || block.Service === undefined || block.EventTV === undefined) return null;
  const account = block.AccountID === undefined || block.AccountID === '<unknown>' ? null : block.AccountID;
  return {
    kind: KINDS[name] ?? 'other',
    at: timeOf(block.EventTV),
    service: block.Service,
    account,
    address: addressOf(block.RemoteAddress),
    detail: name,
    ...(block.SessionID ? { session: block.SessionID } : {}),
  };
}

/** Every security event of capture 1, in the order Asterisk sent them. */
export function captureEvents(): SecurityEvent[] {
  return captureBlocks().flatMap((block) => {
    const event = toSecurityEvent(block);
    return event ? [event] : [];
  });
}

/** The capture's events from one address. */
export const from = (events: SecurityEvent[], address: string): SecurityEvent[] => events.filter((e) => e.address === address);
