import { describe, expect, it } from 'vitest';
import type { DecisionRecord } from '../../../src/store/roles/audit.js';
import { call, useContractGuards, type ContractGuard, type ContractSection } from './fixture.js';

const OPEN_BUDGET = { defaults: { budget: { maxConcurrent: null, dailySpend: null, monthlySpend: null, dailyMinutes: null } } };
const START = Date.parse('2026-11-17T15:00:00Z');

async function authorizeMany(t: ContractGuard, n: number, at: (i: number) => number, number = (_i: number) => '12125550123') {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await t.guard.authorize(call(number(i), new Date(at(i)), `e${i % 7}`))).callId);
  return ids;
}

async function everything(records: AsyncIterable<DecisionRecord>): Promise<string[]> {
  const ids: string[] = [];
  for await (const record of records) ids.push(record.callId);
  return ids;
}

/** The audit's read side: keyset pages, filters and the export stream. */
export const auditContract: ContractSection = (factory) => {
  const open = useContractGuards(factory);

  describe('audit paging and export', () => {
    it('pages newest first, by time then id, each decision exactly once while new ones arrive', async () => {
      const t = await open(OPEN_BUDGET);
      // Three decisions share each millisecond: the id breaks the tie.
      const original = await authorizeMany(t, 60, (i) => START + Math.floor(i / 3) * 1000);
      const seen: string[] = [];
      let after: { at: number; id: string } | undefined;
      let pages = 0;
      for (;;) {
        const page = await t.store.listDecisions({}, { limit: 7, ...(after ? { after } : {}) });
        seen.push(...page.map((d) => d.callId));
        pages++;
        // Newer decisions arriving meanwhile never shift the pages that follow.
        if (pages === 3) await authorizeMany(t, 5, () => START + 3_600_000);
        const last = page.at(-1);
        if (page.length < 7 || !last) break;
        after = { at: last.at, id: last.callId };
      }
      expect(seen).toEqual([...original].reverse());
      expect(pages).toBe(9);
    });

    it('filters by extension, result, reason, country, time and a literal number prefix', async () => {
      const t = await open({ ...OPEN_BUDGET, defaults: { ...OPEN_BUDGET.defaults, destinations: { allowCountries: ['US', 'GB'] } } });
      const numbers = ['12125550123', '011442079460000', '0115352123456', '19002345678', '911'];
      const ids = await authorizeMany(t, 5, (i) => START + i * 1000, (i) => numbers[i] as string);
      const list = async (filter: Parameters<typeof t.store.listDecisions>[0]) => (await t.store.listDecisions(filter, { limit: 50 })).map((d) => d.callId);
      expect(await list({ ext: 'e1' })).toEqual([ids[1]]);
      expect(await list({ result: 'DENY' })).toEqual([ids[3], ids[2]]);
      expect(await list({ reason: 'emergency' })).toEqual([ids[4]]);
      expect(await list({ country: 'GB' })).toEqual([ids[1]]);
      expect(await list({ from: START + 1000, to: START + 3000 })).toEqual([ids[2], ids[1]]);
      expect(await list({ number: '+44' })).toEqual([ids[1]]);
      expect(await list({ number: '0114' })).toEqual([ids[1]]);
      // A prefix is matched literally: no wildcard character matches anything.
      expect(await list({ number: '%' })).toEqual([]);
      expect(await list({ number: '_' })).toEqual([]);
      expect(await list({ wouldDeny: true })).toEqual([]);
    });

    it('exports every matching decision newest first, across many batches, and stops when the reader does', async () => {
      const t = await open(OPEN_BUDGET);
      const ids = await authorizeMany(t, 1234, (i) => START + i);
      expect(await everything(t.store.exportDecisions({}))).toEqual([...ids].reverse());
      expect(await everything(t.store.exportDecisions({ ext: 'e3' }))).toEqual(ids.filter((_id, i) => i % 7 === 3).reverse());
      expect(await everything(t.store.exportDecisions({ ext: 'nobody' }))).toEqual([]);

      const firstTen: string[] = [];
      for await (const record of t.store.exportDecisions({})) {
        firstTen.push(record.callId);
        if (firstTen.length === 10) break;
      }
      expect(firstTen).toEqual([...ids].reverse().slice(0, 10));
      // Stopping early left the database free for writes.
      expect((await t.guard.authorize(call('12125550123', new Date(START + 5000), 'after'))).result).toBe('ALLOW');
    });
  });
};
