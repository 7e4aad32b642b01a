import { readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/captures.js';
import { sourceFiles } from '../support/source-files.js';

const SRC = resolve(repoRoot, 'src');
/** The code every call runs through: FastAGI, ARI, the shell around the engine, the engine, the stores, numbers. */
const PER_CALL = ['agi', 'ari', 'guard', 'engine', 'store', 'numbers', 'fraud'];

/** `x.y = (…) => …`, `x[k] = function …`, `this.f = async v => …`: a function literal assigned to a property. */
const PROPERTY_FUNCTION = /(?:[\w)\]]\.[\w$]+|\])\s*(?:\?\?|\|\|)?=\s*(?:async\s+)?(?:function\b|\([^()]*\)\s*(?::[^=]+)?=>|[\w$]+\s*=>)/;
/** Not per call: a declaration (`const f: T['f'] = …`), and patches of a prototype or a global, made once at load. */
const EXEMPT = /^\s*(?:export\s+)?(?:const|let|var)\s|\.prototype\.|globalThis/;

describe('per-call code assigns no function literal to a property', () => {
  // V8 allocates such a literal in the old generation (parser heuristic: a method being set up);
  // made per call, it held each finished session's objects through minor GCs (README, Benchmark).
  it.each(PER_CALL)('src/%s', (dir) => {
    const found = sourceFiles(join(SRC, dir)).flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .map((line, i) => ({ line, at: `${relative(SRC, file)}:${i + 1}` }))
        .filter(({ line }) => !line.trim().startsWith('//') && !line.trim().startsWith('*') && PROPERTY_FUNCTION.test(line) && !EXEMPT.test(line))
        .map(({ at, line }) => `${at}: ${line.trim()}`),
    );
    expect(found).toEqual([]);
  });
});
