import { afterEach, describe, expect, it } from 'vitest';
import type { DecisionRequest } from '../../src/domain/decision.js';
import { tempGuard, type TempGuard } from '../support/temp-db.js';

const call = (extension: string): DecisionRequest => ({
  extension,
  dialled: '12125550123',
  source: '10.0.0.5:5060',
  origin: 'phone',
  at: new Date(),
  transport: 'agi',
});

describe('extensions with the same policy share one compiled policy', () => {
  let t: TempGuard;
  afterEach(() => t.close());

  it('and still decide as themselves: their own lock, their own budget, their own name', async () => {
    t = await tempGuard({
      extensions: { a: { budget: { maxConcurrent: 1 } }, b: { budget: { maxConcurrent: 1 } }, c: { enabled: false } },
    });
    await t.store.lock('b', 'test', 'test');
    expect(await t.guard.authorize(call('a'))).toMatchObject({ result: 'ALLOW' });
    expect(await t.guard.authorize(call('a'))).toMatchObject({ reason: 'budget_concurrency' });
    const b = await t.guard.authorize(call('b'));
    expect(b).toMatchObject({ reason: 'extension_locked' });
    expect(b.checks.find((x) => x.name === 'extension')?.detail).toContain('extension b is locked');
    expect(await t.guard.authorize(call('c'))).toMatchObject({ reason: 'extension_disabled' });
  });

  it('a policy change reaches every extension that shared it', async () => {
    t = await tempGuard({ extensions: { a: {}, b: {} } });
    expect((await t.guard.authorize(call('b'))).result).toBe('ALLOW');
    await t.store.importDocument({ extensions: { a: {}, b: { enabled: false } } }, 'test', () => undefined);
    expect((await t.guard.authorize(call('a'))).result).toBe('ALLOW');
    expect((await t.guard.authorize(call('b'))).reason).toBe('extension_disabled');
  });
});
