import { describe, expect, it } from 'vitest';
import { composeTakeoverEffects, type TakeoverFinding, type TakeoverPolicy } from '../../../src/intrusion/takeover.js';
import { call, newYork } from '../../fraud/fixture.js';
import { useContractGuards, type ContractSection } from './fixture.js';

/** An account taken over between calls: its lock and its alert, one transaction outside any decision. */

const AT = newYork('2026-11-17T10:00:00').getTime();
const POLICY: TakeoverPolicy = { failureThreshold: 10, windowHours: 24, trustedCidrs: [], lockOnTakeover: true, shadow: false };
const FINDING: TakeoverFinding = {
  at: AT,
  account: '1001',
  address: '203.0.113.9',
  network: '203.0.113.0/24',
  country: 'NG',
  failures: 14,
  networkFailures: 14,
  accountFailures: 14,
  accountSuccesses: 1,
  newCountry: false,
  threshold: 10,
  windowMs: 24 * 3_600_000,
};

export const takeoverContract: ContractSection = (factory) => {
  const open = useContractGuards(factory);

  describe('takeover lock', () => {
    it('locks the account, records it in the policy history, queues one alert naming the address, its failures and its country', async () => {
      const t = await open();
      const { lock, alert } = composeTakeoverEffects(FINDING, POLICY);
      expect(await t.store.lockTakenOver('1001', lock, alert)).toBe(true);
      const stored = await t.store.getLock('1001');
      expect(stored?.actor).toBe('dialguard');
      expect(stored?.reason).toContain('203.0.113.9 (NG) after 14 failed authentications');
      const history = await t.store.policyHistory(['lock:1001'], { limit: 10 });
      expect(history).toHaveLength(1);
      const [raised] = await t.store.listAlerts({ ext: '1001' }, { limit: 10 });
      expect(raised).toMatchObject({ kind: 'lock', severity: 'error', check: 'takeover', counter: 'sourceFailures', decisionId: null, occurrences: 1 });
      expect(raised?.details).toMatchObject({ count: 14, limit: 10, country: 'NG', locked: true, numbers: [], decisionIds: [] });
      expect(raised?.delivery.status).toBe('pending');
      // The account's calls are denied from now on.
      expect((await t.guard.authorize(call('1001', '2125551234', new Date(AT + 1000)))).reason).toBe('extension_locked');
    });

    it('keeps an admin’s lock and its reason, and still alerts; the same takeover again is one alert seen twice', async () => {
      const t = await open();
      await t.store.lock('1001', 'on holiday', 'alice');
      const { lock, alert } = composeTakeoverEffects(FINDING, POLICY);
      expect(await t.store.lockTakenOver('1001', lock, alert)).toBe(false);
      expect(await t.store.lockTakenOver('1001', lock, { ...alert, at: AT + 60_000 })).toBe(false);
      expect((await t.store.getLock('1001'))?.reason).toBe('on holiday');
      const alerts = await t.store.listAlerts({ ext: '1001' }, { limit: 10 });
      expect(alerts.map((a) => a.occurrences)).toEqual([2]);
    });

    it('without lockOnTakeover, or in shadow mode, only alerts', async () => {
      const t = await open();
      for (const policy of [{ ...POLICY, lockOnTakeover: false }, { ...POLICY, shadow: true }]) {
        const { lock, alert } = composeTakeoverEffects({ ...FINDING, account: policy.shadow ? '1002' : '1003' }, policy);
        expect(lock).toBeNull();
        expect(await t.store.lockTakenOver(alert.ext, lock, alert)).toBe(false);
        expect(await t.store.getLock(alert.ext)).toBeNull();
      }
      const alerts = await t.store.listAlerts({}, { limit: 10 });
      expect(alerts.map((a) => [a.ext, a.kind, a.shadow])).toEqual([
        ['1002', 'breach', true],
        ['1003', 'breach', false],
      ]);
    });
  });
};
