import { describe, expect, it } from 'vitest';
import type { PolicyState } from '../../../src/store/roles/policies.js';
import { call, guardOn, useContractGuards, type ContractSection } from './fixture.js';

/** Policy, locks and their history: one policy version that every write bumps and every decision reads. */
export const policyContract: ContractSection = (factory) => {
  const open = useContractGuards(factory);

  describe('policy versions and locks', () => {
    it('a new policy applies to the next call, and the decision names the version it used', async () => {
      const t = await open();
      const before = await t.guard.authorize(call('011442079460000'));
      expect(before.reason).toBe('destination_country_denied');
      await t.store.importDocument({ extensions: { '1001': { destinations: { allowCountries: ['US', 'GB'] } } } }, 'test', () => undefined);
      const after = await t.guard.authorize(call('011442079460000'));
      expect(after.result).toBe('ALLOW');
      expect(after.policyVersion).toBeGreaterThan(before.policyVersion);
    });

    it('a lock survives replacing the extension policy, and 911 still passes', async () => {
      const t = await open({ extensions: { '1001': {} } });
      await t.store.lock('1001', 'suspicious calls', 'test');
      await t.store.importDocument({ extensions: {} }, 'test', () => undefined);
      expect(await t.guard.authorize(call('12125550123'))).toMatchObject({ reason: 'extension_locked' });
      expect(await t.guard.authorize(call('911'))).toMatchObject({ result: 'ALLOW', reason: 'emergency' });
      expect(await t.store.unlock('1001', 'test')).toBe(true);
      expect((await t.guard.authorize(call('12125550123'))).result).toBe('ALLOW');
    });

    it('another process changing the policy or a lock is seen at once (the version is read per decision)', async () => {
      const t = await open();
      expect((await t.guard.authorize(call('011442079460000'))).result).toBe('DENY');
      const other = await t.another();
      await other.importDocument({ defaults: { destinations: { allowCountries: ['US', 'GB'] } } }, 'other-process', () => undefined);
      expect((await t.guard.authorize(call('011442079460000'))).result).toBe('ALLOW');
      await other.lock('1001', 'locked through another guard', 'bob');
      expect(await t.guard.authorize(call('011442079460000'))).toMatchObject({ result: 'DENY', reason: 'extension_locked' });
      expect(await guardOn(other).check(call('011442079460000'))).toMatchObject({ reason: 'extension_locked' });
    });

    it('locks are listed by extension; unlocking what is not locked changes nothing', async () => {
      const t = await open();
      await t.store.lock('1002', 'b', 'alice');
      await t.store.lock('1001', 'a', 'alice');
      await t.store.lock('1001', 'a, again', 'bob');
      expect(await t.store.listLocks()).toMatchObject([
        { ext: '1001', reason: 'a, again', actor: 'bob' },
        { ext: '1002', reason: 'b', actor: 'alice' },
      ]);
      expect(await t.store.getLock('1001')).toMatchObject({ reason: 'a, again', actor: 'bob' });
      const version = (await t.store.loadPolicySet()).version;
      expect(await t.store.unlock('1003', 'alice')).toBe(false);
      expect((await t.store.loadPolicySet()).version).toBe(version);
      expect(await t.store.policyHistory(['lock:1003'], { limit: 5 })).toEqual([]);
    });
  });

  describe('policy writes and their history', () => {
    it('records who changed what, before and after, newest first, each change a new policy version', async () => {
      const t = await open();
      await t.store.updateExtension('1001', 'alice', () => ({ budget: { dailySpend: 5 } }));
      await t.store.lock('1001', 'fraud suspected', 'bob');
      await t.store.updateExtension('1001', 'carol', (current) => ({ ...current?.overrides, enabled: false }));
      await t.store.unlock('1001', 'alice');
      await t.store.updateExtension('1002', 'alice', () => ({}));
      const history = await t.store.policyHistory(['extension:1001', 'lock:1001'], { limit: 10 });
      expect(history.map((c) => [c.actor, c.subject])).toEqual([
        ['alice', 'lock:1001'],
        ['carol', 'extension:1001'],
        ['bob', 'lock:1001'],
        ['alice', 'extension:1001'],
      ]);
      expect(history[1]).toMatchObject({ before: { budget: { dailySpend: 5 } }, after: { budget: { dailySpend: 5 }, enabled: false } });
      expect(history[2]).toMatchObject({ before: null, after: { reason: 'fraud suspected' } });
      expect(history[0]).toMatchObject({ before: { reason: 'fraud suspected' }, after: null });
      const versions = history.map((c) => c.version);
      expect([...versions].sort((a, b) => b - a)).toEqual(versions);
      expect(new Set(versions).size).toBe(4);
      expect(history.every((c) => c.at > 0)).toBe(true);
      expect((await t.store.loadPolicySet()).version).toBe(5);

      // Paging: the next page starts below the last id seen.
      const first = await t.store.policyHistory(['extension:1001', 'lock:1001'], { limit: 3 });
      const rest = await t.store.policyHistory(['extension:1001', 'lock:1001'], { limit: 3, beforeId: first.at(-1)?.id });
      expect([...first, ...rest]).toEqual(history);
    });

    it('an extension write runs its callback on the current entry and the stored policy of the same transaction', async () => {
      const t = await open({ defaults: { budget: { dailySpend: 7 } }, extensions: { '1001': { enabled: true } } });
      const seen: unknown[] = [];
      const record = await t.store.updateExtension('1001', 'alice', (current, policy) => {
        seen.push(current?.overrides, policy.defaults, policy.version);
        return { enabled: false };
      });
      expect(seen).toEqual([{ enabled: true }, { budget: { dailySpend: 7 } }, (record?.version ?? 0) - 1]);
      expect(record).toMatchObject({ ext: '1001', overrides: { enabled: false } });
      expect(record?.version).toBe((await t.store.loadPolicySet()).version);
      expect(await t.store.getExtension('1001')).toEqual(record);

      // A callback that throws changes nothing.
      const refusal = new Error('If-Match failed');
      await expect(t.store.updateExtension('1001', 'bob', () => { throw refusal; })).rejects.toBe(refusal);
      expect(await t.store.getExtension('1001')).toEqual(record);
      expect((await t.store.loadPolicySet()).version).toBe(record?.version);

      // Null deletes the entry.
      expect(await t.store.updateExtension('1001', 'carol', () => null)).toBeNull();
      expect(await t.store.getExtension('1001')).toBeNull();
      expect(await t.store.listExtensions()).toEqual([]);
    });

    it('a setting write sees every extension, and its version is its ETag', async () => {
      const t = await open({ extensions: { '1002': {}, '1001': { enabled: false } } });
      expect(await t.store.readSetting('blockedPrefixes')).toEqual({ value: null, version: 0 });
      let state: PolicyState | undefined;
      const stored = await t.store.updateSetting('blockedPrefixes', 'alice', (current, policy) => {
        expect(current).toEqual({ value: null, version: 0 });
        state = policy;
        return ['+88213'];
      });
      expect(state?.extensions.map((e) => [e.ext, e.overrides])).toEqual([
        ['1001', { enabled: false }],
        ['1002', {}],
      ]);
      expect(stored).toEqual({ value: ['+88213'], version: (await t.store.loadPolicySet()).version });
      expect(await t.store.readSetting('blockedPrefixes')).toEqual(stored);
      expect((await t.store.loadPolicySet()).blockedPrefixes).toEqual(['+88213']);
      await t.store.updateExtension('1003', 'bob', () => ({}));
      // Another subject's change moves the policy version, not this setting's.
      expect((await t.store.readSetting('blockedPrefixes')).version).toBe(stored.version);
      await expect(t.store.updateSetting('blockedPrefixes', 'bob', () => { throw new Error('stale'); })).rejects.toThrow('stale');
      expect(await t.store.readSetting('blockedPrefixes')).toEqual(stored);
    });

    it('an import replaces the sections it has in one transaction, or nothing when its check throws', async () => {
      const t = await open({ defaults: { budget: { dailySpend: 9 } }, extensions: { old: {}, kept: { enabled: false } } });
      const refusal = new Error('an extension would be invalid');
      await expect(t.store.importDocument({ extensions: { fresh: {} }, blockedPrefixes: ['+1900'] }, 'cli:alice', () => { throw refusal; })).rejects.toBe(refusal);
      expect((await t.store.listExtensions()).map((e) => e.ext)).toEqual(['kept', 'old']);
      expect((await t.store.loadPolicySet()).blockedPrefixes).toEqual([]);

      let checked: PolicyState | undefined;
      const summary = await t.store.importDocument({ extensions: { kept: { enabled: false }, fresh: {} }, blockedPrefixes: ['+1900'] }, 'cli:alice', (policy) => {
        checked = policy;
      });
      // The check saw the policy the import replaces.
      expect(checked?.extensions.map((e) => e.ext)).toEqual(['kept', 'old']);
      expect(checked?.set.defaults).toEqual({ budget: { dailySpend: 9 } });
      expect(summary).toEqual({ version: (await t.store.loadPolicySet()).version, extensions: 2, rates: 0 });
      expect((await t.store.listExtensions()).map((e) => e.ext)).toEqual(['fresh', 'kept']);
      const set = await t.store.loadPolicySet();
      // Sections the document does not have are kept.
      expect(set).toMatchObject({ defaults: { budget: { dailySpend: 9 } }, blockedPrefixes: ['+1900'], rates: null, highRisk: null, site: { denyUnknownExtensions: false } });
      expect((await t.store.policyHistory(['extension:old'], { limit: 5 }))[0]).toMatchObject({ actor: 'cli:alice', before: {}, after: null });
    });
  });
};
