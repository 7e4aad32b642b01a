import { describe, expect, it } from 'vitest';
import { useContractGuards, type ContractSection } from './fixture.js';

const token = (name: string, role: 'admin' | 'auditor' = 'auditor', hash = name.padEnd(64, '0')) => ({ name, role, hash, actor: 'test' });

/** Admin API tokens: only hashes, one live token per name. */
export const tokenContract: ContractSection = (factory) => {
  const open = useContractGuards(factory);

  describe('tokens', () => {
    it('creates, lists by name, refuses a live name twice, revokes, and lets a revoked name be reused', async () => {
      const { store } = await open();
      expect(await store.listTokens()).toEqual([]);
      expect(await store.createToken(token('noc', 'admin'))).toBe(true);
      expect(await store.createToken(token('grafana'))).toBe(true);
      expect(await store.createToken(token('noc', 'auditor', 'f'.repeat(64)))).toBe(false);
      const tokens = await store.listTokens();
      expect(tokens).toMatchObject([
        { name: 'grafana', role: 'auditor', hash: token('grafana').hash, createdBy: 'test' },
        { name: 'noc', role: 'admin', hash: token('noc').hash, createdBy: 'test' },
      ]);
      expect(tokens.every((t) => Number.isInteger(t.id) && t.createdAt > 0)).toBe(true);
      expect(new Set(tokens.map((t) => t.id)).size).toBe(2);

      expect(await store.revokeToken('grafana', 'alice')).toBe(true);
      expect(await store.revokeToken('grafana', 'alice')).toBe(false);
      expect((await store.listTokens()).map((t) => t.name)).toEqual(['noc']);
      expect(await store.createToken(token('grafana', 'auditor', 'e'.repeat(64)))).toBe(true);
      expect((await store.listTokens()).find((t) => t.name === 'grafana')?.hash).toBe('e'.repeat(64));
    });

    it('replaces the live token of a name in one step, and creates it when there is none', async () => {
      const { store } = await open();
      await store.replaceToken(token('admin', 'admin', 'a'.repeat(64)));
      await store.replaceToken(token('admin', 'admin', 'b'.repeat(64)));
      expect(await store.listTokens()).toMatchObject([{ name: 'admin', role: 'admin', hash: 'b'.repeat(64) }]);
    });

    it('a token revoked through one guard stops working on every other at once', async () => {
      const t = await open();
      await t.store.createToken(token('grafana'));
      const other = await t.another();
      expect((await other.listTokens()).map((x) => x.name)).toEqual(['grafana']);
      await t.store.revokeToken('grafana', 'alice');
      expect(await other.listTokens()).toEqual([]);
    });
  });
};
