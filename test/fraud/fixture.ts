import { DateTime } from 'luxon';
import type { DecisionRequest } from '../../src/domain/decision.js';

/** A wall-clock time in New York (the test site's zone) as a Date: `newYork('2026-11-21T03:00:00')`. */
export function newYork(local: string): Date {
  return DateTime.fromISO(local, { zone: 'America/New_York' }).toJSDate();
}

export const seconds = (n: number): number => n * 1000;
export const minutes = (n: number): number => n * 60_000;

export function call(extension: string, dialled: string, at: Date, source = '192.168.1.20:5060'): DecisionRequest {
  return { extension, dialled, source, origin: 'phone', at, transport: 'agi', meta: { channel: `PJSIP/${extension}-00000001` } };
}

/**
 * Numbers abroad as a US phone dials them (011…), fixed lines in six countries none of which is
 * on the high-risk list: `ATTACK_COUNTRIES[i % 6]`, the i-th distinct one.
 */
export const ATTACK_COUNTRIES = ['GB', 'DE', 'FR', 'IT', 'ES', 'NL'] as const;
const NATIONAL: Readonly<Record<(typeof ATTACK_COUNTRIES)[number], (n: string) => string>> = {
  GB: (n) => `01144207946${n.padStart(4, '0')}`,
  DE: (n) => `0114930123${n.padStart(4, '0')}`,
  FR: (n) => `011331426853${n.padStart(2, '0')}`,
  IT: (n) => `011390645678${n.padStart(3, '0')}`,
  ES: (n) => `01134912345${n.padStart(3, '0')}`,
  NL: (n) => `01131201234${n.padStart(3, '0')}`,
};

export function attackNumber(i: number): { number: string; country: string } {
  const country = ATTACK_COUNTRIES[i % ATTACK_COUNTRIES.length] as (typeof ATTACK_COUNTRIES)[number];
  return { number: NATIONAL[country](String(10 + Math.floor(i / ATTACK_COUNTRIES.length))), country };
}

/** A German address: the attacker registered from abroad. */
export const FOREIGN_SOURCE = '80.128.0.1:5060';

/**
 * The most calls any sliding window of `windowMs` holds: checked at every call, since a window
 * holds the most calls when it ends at one of them.
 */
export function busiestWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while ((sorted[start] as number) <= (sorted[end] as number) - windowMs) start++;
    most = Math.max(most, end - start + 1);
  }
  return most;
}
