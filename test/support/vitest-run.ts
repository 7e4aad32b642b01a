import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './captures.js';

export interface VitestRun {
  status: number | null;
  /** The last line printed: the summary reporter's `N passed, N failed`. */
  closingLine: string;
  /** stdout and stderr, for a failing assertion's message. */
  output: string;
}

/** A real `vitest run ARGS` in a child process, from the repository's root; `env` changes the inherited environment. */
export function runVitest(args: string[], env: Record<string, string | undefined> = {}): VitestRun {
  // The variables vitest sets for its workers would make the child believe it is one.
  const merged = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VITEST')));
  // An undefined value removes the variable (CI, to run as a developer would).
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) delete merged[name];
    else merged[name] = value;
  }
  const child = spawnSync(process.execPath, [join(repoRoot, 'node_modules/vitest/vitest.mjs'), 'run', ...args], {
    cwd: repoRoot,
    env: merged,
    encoding: 'utf8',
    timeout: 60_000,
  });
  const lines = child.stdout.split('\n').filter((line) => line.trim() !== '');
  return { status: child.status, closingLine: lines.at(-1) ?? '', output: `${child.stdout}\n${child.stderr}` };
}
