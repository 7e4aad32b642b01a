import { describe, expect, it } from 'vitest';
import { composeTakeoverEffects, type TakeoverFinding, type TakeoverPolicy } from '../../src/intrusion/takeover.js';

const DAY = 86_400_000;
const policy = (over: Partial<TakeoverPolicy> = {}): TakeoverPolicy => ({ failureThreshold: 10, windowHours: 24, trustedCidrs: [], lockOnTakeover: true, shadow: false, ...over });
const finding = (over: Partial<TakeoverFinding> = {}): TakeoverFinding => ({
  at: Date.parse('2026-12-01T22:10:07.596Z'),
  account: '1001',
  address: '45.95.147.6',
  network: '45.95.147.0/24',
  country: 'NL',
  failures: 12,
  networkFailures: 12,
  accountFailures: 4,
  accountSuccesses: 1,
  newCountry: false,
  threshold: 10,
  windowMs: DAY,
  ...over,
});

describe('the takeover lock and its alert', () => {
  it('locks the account and names the address, its failures and its country', () => {
    const effects = composeTakeoverEffects(finding(), policy());
    expect(effects.lock?.reason).toBe('taken over: account 1001 authenticated from 45.95.147.6 (NL) after 12 failed authentications from it in the last 24 h');
    expect(effects.alert).toMatchObject({
      kind: 'lock',
      ext: '1001',
      check: 'takeover',
      counter: 'sourceFailures',
      message: 'Extension 1001 locked until an admin unlocks it: account 1001 authenticated from 45.95.147.6 (NL) after 12 failed authentications from it in the last 24 h',
      details: { count: 12, limit: 10, country: 'NL', locked: true, counts: { sourceFailures: 12, networkFailures: 12 } },
      dedupKey: 'takeover:1001:45.95.147.6',
    });
  });

  it('names the range when the failures came from its neighbours, and a country never seen for the account', () => {
    const effects = composeTakeoverEffects(finding({ address: '45.95.147.77', failures: 0, networkFailures: 30, country: 'AU', newCountry: true }), policy());
    expect(effects.alert.message).toBe(
      'Extension 1001 locked until an admin unlocks it: account 1001 authenticated from 45.95.147.77 (AU) after 0 failed authentications from it and 30 from 45.95.147.0/24 in the last 24 h; AU is a country never seen for this account',
    );
    const newPlace = composeTakeoverEffects(finding({ failures: 0, networkFailures: 0, country: 'AU', newCountry: true }), policy());
    expect(newPlace.alert).toMatchObject({ counter: 'newCountry', details: { country: 'AU' } });
  });

  it('in shadow mode, or without lockOnTakeover, alerts and locks nothing', () => {
    for (const p of [policy({ shadow: true }), policy({ lockOnTakeover: false })]) {
      const effects = composeTakeoverEffects(finding(), p);
      expect(effects.lock).toBeNull();
      expect(effects.alert).toMatchObject({ kind: 'breach', details: { locked: false, country: 'NL' } });
      expect(effects.alert.message).toContain('Extension 1001 may be taken over: account 1001 authenticated from 45.95.147.6 (NL)');
    }
  });
});
