import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CheckOutcome } from '../../src/domain/decision.js';
import { packChecks, packText, unpackChecks, unpackText } from '../../src/store/sqlite/packed-checks.js';
import { call, useContractGuards } from './contract/fixture.js';

const SITE = {
  defaults: {
    destinations: { allowCountries: ['US', 'GB'] },
    velocity: { maxAttemptsPerMinute: 3, maxInternationalPerHour: 10, maxDistinctDestinationsPerHour: 10, maxDeniedPerHour: 10, noveltyDays: 30, maxNewCountriesPerHour: 5, lockOnBreach: false },
  },
};

describe('the audit keeps checks packed', () => {
  const open = useContractGuards(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dialguard-packed-'));
    return { database: join(dir, 'dialguard.db'), destroy: async () => rmSync(dir, { recursive: true, force: true }) };
  });

  it('reads back every check of real decisions exactly, in a tenth of their JSON or less', async () => {
    const t = await open(SITE);
    const at = Date.parse('2026-11-17T15:00:00Z');
    const numbers = ['12125550123', '011442079460000', '19005550123', '18765550123', '911', '12', '12125550124', '12125550125', '12125550126'];
    for (const [i, number] of numbers.entries()) {
      const decision = await t.guard.authorize(call(number, new Date(at + i * 1000)));
      const packed = packChecks(decision.checks);
      expect(unpackChecks(packed)).toEqual(decision.checks);
      expect(Buffer.byteLength(packed)).toBeLessThan(JSON.stringify(decision.checks).length / 3);
      expect((await t.store.getDecision(decision.callId))?.checks).toEqual(decision.checks);
    }
  });

  it("reads back real decisions' messages and number types exactly, an allowed or denied call's in 10 characters fewer or more", async () => {
    const t = await open(SITE);
    const at = Date.parse('2026-11-17T15:00:00Z');
    for (const [i, number] of ['12125550123', '011442079460000', '19005550123', '911', '12'].entries()) {
      const decision = await t.guard.authorize(call(number, new Date(at + i * 1000)));
      expect(unpackText(packText(decision.message))).toBe(decision.message);
      if (decision.message.startsWith('Call to ')) expect(packText(decision.message).length).toBeLessThanOrEqual(decision.message.length - 10);
      const stored = await t.store.getDecision(decision.callId);
      expect(stored?.message).toBe(decision.message);
      expect(stored?.numberType).toBe(decision.numberType);
    }
  });

  it('keeps any text of a message, and reads a message as it is from rows written before packing', () => {
    for (const text of ['', 'a tab\there', '\x01Call to', 'Call to United States allowed, limit 60 min', '"quoted"']) expect(unpackText(packText(text))).toBe(text);
    expect(unpackText('Call to United States allowed, limit 60 min')).toBe('Call to United States allowed, limit 60 min');
  });

  it('stores what it cannot pack as plain JSON, and reads plain JSON as rows written before packing', () => {
    const odd: CheckOutcome[][] = [
      [{ name: 'budget', outcome: 'pass', detail: 'a tab\there' }],
      [{ name: 'budget', outcome: 'pass', detail: 'x', extra: 1 } as CheckOutcome],
      [{ name: 'budget', outcome: 'pass', detail: 'x', warn: false }],
      [{ name: 'future_check' as CheckOutcome['name'], outcome: 'skip', detail: 'x' }],
      [{ name: 'velocity', outcome: 'fail', reason: 'not_a_reason' as CheckOutcome['reason'], detail: 'x' }],
    ];
    for (const checks of odd) {
      expect(packChecks(checks)).toBe(JSON.stringify(checks));
      expect(unpackChecks(packChecks(checks))).toEqual(checks);
    }
    const plain: CheckOutcome[] = [{ name: 'novelty', outcome: 'pass', detail: 'warning: first call to GB in 30 days (1 new in the last hour)', warn: true }];
    expect(unpackChecks(JSON.stringify(plain))).toEqual(plain);
    expect(unpackChecks(packChecks(plain))).toEqual(plain);
    expect(unpackChecks(packChecks([]))).toEqual([]);
  });
});

describe('the packing tables', () => {
  it('know every registered check and reason code (else their decisions are stored as plain JSON)', async () => {
    const { CHECK_NAMES, REASON_CODES } = await import('../../src/engine/checks/registry.js');
    for (const name of CHECK_NAMES) {
      for (const reason of REASON_CODES) {
        const check: CheckOutcome = { name, outcome: 'fail', reason, detail: 'x' };
        const packed = packChecks([check]);
        expect(packed.startsWith('['), `${name} / ${reason}`).toBe(false);
        expect(unpackChecks(packed)).toEqual([check]);
      }
    }
  });
});
