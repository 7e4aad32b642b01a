import { describe, expect, it } from 'vitest';
import type { Decision, DecisionRequest } from '../../../src/domain/decision.js';
import type { SiteCounts, SiteQuery } from '../../../src/domain/site.js';
import type { Decider } from '../../../src/store/roles/decisions.js';
import type { Store } from '../../../src/store/roles/index.js';
import { useContractGuards, type ContractSection } from './fixture.js';

/**
 * The site-wide counters (source_concurrency, destination_spread) as the store reads them in a
 * decision's transaction: deciders written here ask for them and decide on what they see, so
 * that the store is tested without the engine's checks.
 */

const AT = new Date('2026-11-17T15:00:00Z').getTime();
const OFFICE = '203.0.113.7';
const LONDON = '+442079460000';
const HOUR = 3_600_000;
const NO_CAPS = { placedPerMinute: null, internationalPerHour: null, destinationsPerHour: null, deniedPerHour: null, newCountriesPerHour: null };

const request = (extension: string, at: number, options: { source?: string; dialled?: string } = {}): DecisionRequest => ({
  extension,
  dialled: options.dialled ?? '011442079460000',
  source: options.source ?? `${OFFICE}:5060`,
  origin: 'phone',
  at: new Date(at),
  transport: 'agi',
});

function decision(result: 'ALLOW' | 'DENY', policyVersion: number, sourceIp: string | null): Decision {
  const allow = result === 'ALLOW';
  return {
    result,
    reason: allow ? 'allowed' : 'velocity_exceeded',
    message: allow ? 'allowed' : 'denied',
    limitMs: allow ? 600_000 : 0,
    e164: LONDON,
    country: 'GB',
    numberType: 'FIXED_LINE',
    source: { ip: sourceIp, country: null },
    checks: [],
    grant: allow ? { seconds: 600, costMicros: 1000, rate: { prefix: '+', perMinuteMicros: 100, increment: 60, minimum: 60 } } : null,
    policyVersion,
  };
}

/** Asks the store for `site`, keeps what it read in `seen`, and allows when `allow` says so (then the store reserves the call). */
function decider(site: SiteQuery, allow: (counts: SiteCounts) => boolean, seen: SiteCounts[] = [], sourceIp: string | null = OFFICE): Decider {
  return {
    plan: (snapshot) => ({
      timezone: 'America/New_York',
      fraud: { destination: LONDON, country: 'GB', breaker: false, noveltyMs: null, caps: NO_CAPS, site },
      decide: (usage) => {
        const counts = usage.site ?? {};
        seen.push(counts);
        return { decision: decision(allow(counts) ? 'ALLOW' : 'DENY', snapshot.policy.version, sourceIp), latencyUs: 1 };
      },
    }),
  };
}

const sourceQuery = (cap: number, ip = OFFICE): SiteQuery => ({ source: { ip, cap }, spread: null });
const spreadQuery = (cap: number, windowMs = HOUR): SiteQuery => ({ source: null, spread: { e164: LONDON, windowMs, cap } });

async function authorize(store: Store, req: DecisionRequest, d: Decider): Promise<Decision & { callId: string }> {
  const [outcome] = await store.authorizeBatch([{ request: req, decider: d }]);
  if (!outcome?.ok) throw outcome?.error ?? new Error('no outcome');
  return outcome.decision;
}

/** What a decision at `at` for `ext` reads for `query`. */
async function read(store: Store, query: SiteQuery, ext: string, at: number, source?: string): Promise<SiteCounts> {
  const seen: SiteCounts[] = [];
  await store.evaluate(request(ext, at, { source }), decider(query, () => false, seen));
  return seen[0] as SiteCounts;
}

export const siteCountersContract: ContractSection = (factory) => {
  const open = useContractGuards(factory);

  describe('site-wide counters: calls in progress per source address', () => {
    it('counts the active reservations of every extension from one address, not those of another address, settled or overdue ones', async () => {
      const t = await open({});
      const placed = [];
      for (const [i, ext] of ['2001', '2002', '2003'].entries()) placed.push(await authorize(t.store, request(ext, AT + i * 1000), decider(sourceQuery(10), () => true)));
      await authorize(t.store, request('2004', AT + 3000, { source: '198.51.100.1:5060' }), decider(sourceQuery(10), () => true, [], '198.51.100.1'));
      // A denied call reserves nothing, so it holds no slot.
      await authorize(t.store, request('2005', AT + 4000), decider(sourceQuery(10), () => false));

      expect(await read(t.store, sourceQuery(10), '2009', AT + 5000)).toEqual({ sourceActiveCalls: 3 });
      expect(await read(t.store, sourceQuery(10, '198.51.100.1'), '2009', AT + 5000, '198.51.100.1')).toEqual({ sourceActiveCalls: 1 });
      expect(await read(t.store, sourceQuery(2), '2009', AT + 5000)).toEqual({ sourceActiveCalls: 2 });

      await t.store.settle({ callId: (placed[0] as { callId: string }).callId, answeredSeconds: 30, dialStatus: 'ANSWER', at: new Date(AT + 6000) });
      expect(await read(t.store, sourceQuery(10), '2009', AT + 7000)).toEqual({ sourceActiveCalls: 2 });
      // 600 s granted plus 300 s grace: the second call's reservation is overdue at AT + 1000 + 900 s, before any write expires it.
      expect(await read(t.store, sourceQuery(10), '2009', AT + 1000 + 900_000)).toEqual({ sourceActiveCalls: 1 });
    });

    it('is read only when the plan asks for it', async () => {
      const t = await open({});
      await authorize(t.store, request('2001', AT), decider(sourceQuery(10), () => true));
      expect(await read(t.store, { source: null, spread: null }, '2002', AT + 1000)).toEqual({});
    });

    it('never lets more calls through than the limit when 12 extensions call from one address through two guards at once', async () => {
      const t = await open({});
      const other = await t.another();
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          authorize(i % 2 ? other : t.store, request(`30${String(i).padStart(2, '0')}`, AT + i), decider(sourceQuery(4), (c) => (c.sourceActiveCalls ?? 0) < 4)),
        ),
      );
      expect(results.filter((d) => d.result === 'ALLOW')).toHaveLength(4);
      expect(await read(t.store, sourceQuery(100), '3999', AT + 100)).toEqual({ sourceActiveCalls: 4 });
    });
  });

  describe('site-wide counters: extensions that called one destination', () => {
    it('counts the distinct extensions with a call placed to the number in the window, and whether the caller is one of them', async () => {
      const t = await open({});
      await authorize(t.store, request('2001', AT), decider(spreadQuery(10), () => true));
      await authorize(t.store, request('2001', AT + 1000), decider(spreadQuery(10), () => true));
      await authorize(t.store, request('2002', AT + 2000), decider(spreadQuery(10), () => true));
      // Denied: nothing placed, so 2003 has not called it.
      await authorize(t.store, request('2003', AT + 3000), decider(spreadQuery(10), () => false));

      expect(await read(t.store, spreadQuery(10), '2003', AT + 4000)).toEqual({ spread: { extensions: 2, includesCaller: false } });
      expect(await read(t.store, spreadQuery(10), '2001', AT + 4000)).toEqual({ spread: { extensions: 2, includesCaller: true } });
      expect(await read(t.store, spreadQuery(1), '2003', AT + 4000)).toEqual({ spread: { extensions: 1, includesCaller: false } });
      // The window is (at - w, at]: at AT + 1 h the call of AT has left it, 2001's second call has not.
      expect(await read(t.store, spreadQuery(10), '2003', AT + HOUR)).toEqual({ spread: { extensions: 2, includesCaller: false } });
      expect(await read(t.store, spreadQuery(10), '2003', AT + HOUR + 1000)).toEqual({ spread: { extensions: 1, includesCaller: false } });
      expect(await read(t.store, spreadQuery(10), '2003', AT + HOUR + 2000)).toEqual({ spread: { extensions: 0, includesCaller: false } });
      // A shorter window sees fewer calls.
      expect(await read(t.store, spreadQuery(10, 1500), '2003', AT + 3000)).toEqual({ spread: { extensions: 1, includesCaller: false } });
    });

    it('never lets more extensions call the number than the limit when 10 dial it at once, in different ways, through two guards', async () => {
      const t = await open({});
      const other = await t.another();
      const dialled = ['011442079460000', '+442079460000', '9011442079460000', '011 44 20 7946 0000'];
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => {
          const d = decider(spreadQuery(4), (c) => c.spread !== undefined && (c.spread.includesCaller || c.spread.extensions < 3));
          return authorize(i % 2 ? other : t.store, request(`40${i}`, AT + i, { dialled: dialled[i % dialled.length], source: `198.51.100.${i}:5060` }), d);
        }),
      );
      expect(results.filter((d) => d.result === 'ALLOW')).toHaveLength(3);
      expect(await read(t.store, spreadQuery(10), '4999', AT + 100)).toEqual({ spread: { extensions: 3, includesCaller: false } });
    });
  });
};
