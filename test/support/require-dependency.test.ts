import { describe, expect, it } from 'vitest';
import { requireDependency, underCi } from './require-dependency.js';

const missing = (): string => 'no frobnicator at /opt/frob: apt-get install -y frob';

describe('requireDependency', () => {
  it('is true, and says nothing, when the probe finds the dependency (sync or async)', async () => {
    const said: string[] = [];
    expect(await requireDependency('Frob', () => null, { env: { CI: 'true' }, warn: (m) => said.push(m) })).toBe(true);
    expect(await requireDependency('Frob', async () => null, { env: {}, warn: (m) => said.push(m) })).toBe(true);
    expect(said).toEqual([]);
  });

  it('under CI=true, a missing dependency throws with the name and what is missing', async () => {
    await expect(requireDependency('Frob', missing, { env: { CI: 'true' } })).rejects.toThrow('Frob is required under CI=true: no frobnicator at /opt/frob: apt-get install -y frob');
    await expect(requireDependency('Frob', async () => 'server not reachable', { env: { CI: '1' } })).rejects.toThrow('Frob is required under CI=true: server not reachable');
  });

  it('outside CI, a missing dependency skips with a loud message naming it', async () => {
    for (const env of [{}, { CI: 'false' }, { CI: '0' }, { CI: '' }]) {
      const said: string[] = [];
      expect(await requireDependency('Frob', missing, { env, warn: (m) => said.push(m) })).toBe(false);
      expect(said).toHaveLength(1);
      expect(said[0]).toContain('SKIPPED: these tests need Frob: no frobnicator at /opt/frob: apt-get install -y frob');
    }
  });

  it('reads CI the way CI services set it', () => {
    expect([underCi({ CI: 'true' }), underCi({ CI: 'TRUE' }), underCi({ CI: '1' }), underCi({ CI: 'yes' })]).toEqual([true, true, true, true]);
    expect([underCi({}), underCi({ CI: '' }), underCi({ CI: 'false' }), underCi({ CI: '0' })]).toEqual([false, false, false, false]);
  });
});
