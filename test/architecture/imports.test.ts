import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/captures.js';
import { sourceFiles } from '../support/source-files.js';

const SRC = resolve(repoRoot, 'src');

/** Every import of every file under src: `from '…'`, `import '…'` and `import('…')`, type-only ones included. */
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*)'([^']+)'/g;
const imports = sourceFiles(SRC).flatMap((file) => {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(IMPORT)].map(([, specifier]) => {
    const spec = specifier as string;
    const target = spec.startsWith('.') ? relative(SRC, resolve(dirname(file), spec)) : spec;
    return { from: relative(SRC, file), spec, target };
  });
});

const inside = (path: string, dir: string): boolean => path === dir || path.startsWith(`${dir}/`);
const show = (found: typeof imports): string[] => found.map((i) => `${i.from} imports ${i.spec}`);

describe('layers: nothing imports upward', () => {
  it('src/domain imports nothing but src/domain', () => {
    expect(show(imports.filter((i) => inside(i.from, 'domain') && !inside(i.target, 'domain')))).toEqual([]);
  });

  it.each(['store', 'numbers', 'policy', 'rates', 'fraud', 'net'])('src/%s imports neither the engine nor the shell around it', (layer) => {
    const above = ['engine', 'guard', 'http', 'agi', 'ari', 'cli', 'web', 'alerts', 'server.ts', 'runtime.ts'];
    // The policy's sections are declared by the check modules; its schema and defaults gather them.
    const allowed = layer === 'policy' ? (i: (typeof imports)[number]) => inside(i.target, 'engine/checks') : () => false;
    expect(show(imports.filter((i) => inside(i.from, layer) && above.some((dir) => inside(i.target, dir)) && !allowed(i)))).toEqual([]);
  });

  it('the check modules import no engine file outside engine/checks but engine/types.ts, and of src/policy only its leaf helpers', () => {
    const leaves = ['policy/fields.ts', 'policy/clock.ts', 'policy/section-types.ts'];
    const upward = (i: (typeof imports)[number]) =>
      (inside(i.target, 'engine') && !inside(i.target, 'engine/checks') && i.target !== 'engine/types.js') ||
      (inside(i.target, 'policy') && !leaves.includes(i.target.replace(/\.js$/, '.ts'))) ||
      ['guard', 'http', 'agi', 'ari', 'cli', 'web', 'alerts', 'store', 'server.ts', 'runtime.ts'].some((dir) => inside(i.target, dir));
    expect(show(imports.filter((i) => inside(i.from, 'engine/checks') && upward(i)))).toEqual([]);
  });

  it('no file imports itself through others (value imports: a cycle breaks module loading)', () => {
    const VALUE = /^(?:import|export)\s+(?!type\b)[^;]*?\bfrom\s*'([^']+)'/gm;
    const graph = new Map(
      sourceFiles(SRC).map((file) => {
        const text = readFileSync(file, 'utf8');
        const targets = [...text.matchAll(VALUE)].flatMap(([, spec]) => (spec?.startsWith('.') ? [relative(SRC, resolve(dirname(file), spec)).replace(/\.js$/, '.ts')] : []));
        return [relative(SRC, file), targets] as const;
      }),
    );
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (file: string, path: string[]): void => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'open') {
        cycles.push([...path.slice(path.indexOf(file)), file].join(' -> '));
        return;
      }
      state.set(file, 'open');
      for (const next of graph.get(file) ?? []) visit(next, [...path, file]);
      state.set(file, 'done');
    };
    for (const file of graph.keys()) visit(file, []);
    expect(cycles).toEqual([]);
  });

  it('no module outside src/store knows which database is behind the roles', () => {
    const database = (i: (typeof imports)[number]) => i.spec === 'better-sqlite3' || i.spec === 'pg' || inside(i.target, 'store/sqlite') || inside(i.target, 'store/postgres');
    expect(show(imports.filter((i) => !inside(i.from, 'store') && database(i)))).toEqual([]);
  });
});
