import { describe, expect, it } from 'vitest';
import { defaultPolicy } from '../../src/policy/defaults.js';
import { mergePatch, mergePolicy } from '../../src/policy/merge.js';
import type { PolicyOverrides } from '../../src/policy/schema.js';

const base = () => defaultPolicy({ homeCountry: 'US', timezone: 'America/New_York' });

describe('mergePolicy', () => {
  it('merges nested objects: an extension that raises its daily spend keeps the other budget fields', () => {
    const merged = mergePolicy(base(), { budget: { dailySpend: 100 } });
    expect(merged.budget).toEqual({ ...base().budget, dailySpend: 100 });
    expect(merged.destinations).toEqual(base().destinations);
  });

  it('replaces arrays: allowing Canada means listing the US again', () => {
    const merged = mergePolicy(base(), { destinations: { allowCountries: ['CA'] } });
    expect(merged.destinations.allowCountries).toEqual(['CA']);
    expect(merged.destinations.denyTypes).toEqual(base().destinations.denyTypes);
  });

  it('keeps null as a value: a null budget is unlimited', () => {
    const merged = mergePolicy(base(), { budget: { monthlySpend: null, maxConcurrent: null } });
    expect(merged.budget.monthlySpend).toBeNull();
    expect(merged.budget.maxConcurrent).toBeNull();
    expect(merged.budget.dailySpend).toBe(25);
  });

  it('ignores undefined values', () => {
    const merged = mergePolicy(base(), { enabled: undefined, budget: { dailySpend: undefined } });
    expect(merged).toEqual(base());
  });

  it('changes neither input and shares no array or object with them', () => {
    const policy = base();
    const overrides: PolicyOverrides = { geofence: { allowCidrs: ['203.0.113.0/24'] }, schedule: { windows: [] } };
    const policyBefore = structuredClone(policy);
    const overridesBefore = structuredClone(overrides);

    const merged = mergePolicy(policy, overrides);
    merged.geofence.allowCidrs.push('198.51.100.0/24');
    merged.destinations.allowCountries.push('CA');
    merged.budget.dailySpend = 1;

    expect(policy).toEqual(policyBefore);
    expect(overrides).toEqual(overridesBefore);
  });

  it('keeps a "__proto__" key as data instead of changing the prototype', () => {
    const overrides = JSON.parse('{"budget":{"__proto__":{"polluted":true}}}') as PolicyOverrides;
    const merged = mergePolicy(base(), overrides);
    expect(Object.getPrototypeOf(merged.budget)).toBe(Object.prototype);
    expect((merged.budget as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('mergePatch (RFC 7396)', () => {
  it('merges objects and replaces arrays and scalars', () => {
    const target = { budget: { dailySpend: 50, monthlySpend: 500 }, destinations: { allowCountries: ['US', 'CA'] } };
    expect(mergePatch(target, { budget: { dailySpend: 75 }, destinations: { allowCountries: ['US'] } })).toEqual({
      budget: { dailySpend: 75, monthlySpend: 500 },
      destinations: { allowCountries: ['US'] },
    });
  });

  it('deletes a key patched to null, so the extension inherits the default again', () => {
    const target = { budget: { dailySpend: 50, monthlySpend: 500 }, voicemailCallout: 'allow' };
    expect(mergePatch(target, { budget: { dailySpend: null }, voicemailCallout: null })).toEqual({ budget: { monthlySpend: 500 } });
  });

  it('passes the RFC 7396 appendix examples', () => {
    const cases: [unknown, unknown, unknown][] = [
      [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
      [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
      [{ a: 'b' }, { a: null }, {}],
      [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
      [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
      [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
      [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
      [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
      [['a', 'b'], ['c', 'd'], ['c', 'd']],
      [{ a: 'b' }, ['c'], ['c']],
      [{ a: 'foo' }, null, null],
      [{ a: 'foo' }, 'bar', 'bar'],
      [{ e: null }, { a: 1 }, { e: null, a: 1 }],
      [[1, 2], { a: 'b', c: null }, { a: 'b' }],
      [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
    ];
    for (const [target, patch, result] of cases) expect(mergePatch(target, patch)).toEqual(result);
  });

  it('changes neither the target nor the patch', () => {
    const target = { budget: { dailySpend: 50 }, geofence: { allowCidrs: ['10.0.0.0/8'] } };
    const patch = { budget: { dailySpend: null, monthlySpend: 10 } };
    const targetBefore = structuredClone(target);
    const patchBefore = structuredClone(patch);

    const result = mergePatch(target, patch) as typeof target;
    result.geofence.allowCidrs.push('192.168.0.0/16');

    expect(target).toEqual(targetBefore);
    expect(patch).toEqual(patchBefore);
  });
});
