/**
 * The C load generator (agi-load.c) from Node: compiled at run time with the machine's `cc`,
 * fed session templates in a file, its one JSON line parsed.
 */
import { execFile, execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const SOURCE = resolve(import.meta.dirname, 'agi-load.c');

export interface AgiLoadResult {
  mode: 'max' | 'rate';
  /** Sessions ended by the server's FIN. */
  sessions: number;
  started: number;
  errors: { connect: number; reset: number; timeout: number; pipelined: number; longLine: number; write: number };
  seconds: number;
  /** Sessions completed per second. */
  rate: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  /** The generator's own CPU over the run. */
  cpuSeconds: { user: number; system: number; total: number };
  /** Sessions by the number of commands the server sent in them. */
  commands: Record<string, number>;
  /** Sessions by the number of SET VARIABLE commands in them. */
  variables: Record<string, number>;
  /** Sessions by the DIALGUARD_RESULT the server set (`(none)` when it set none). */
  results: Record<string, number>;
}

export type AgiLoadMode = ({ concurrency: number; sessions: number } | { concurrency: number; seconds: number } | { rate: number; seconds: number }) & {
  /** A session not finished after this long is ended as a timeout (the generator's default: 10,000). */
  timeoutMs?: number;
};

/** Compiles agi-load.c into `dir`; throws when the machine has no C compiler. */
export function compileAgiLoad(dir: string): string {
  const binary = join(dir, 'agi-load');
  execFileSync('cc', ['-O2', '-o', binary, SOURCE], { stdio: ['ignore', 'inherit', 'inherit'] });
  return binary;
}

/** Session templates as Asterisk writes them: each environment's lines, then the lone "\n". */
export function writeTemplates(path: string, envs: ReadonlyArray<readonly string[]>): string {
  writeFileSync(path, envs.map((lines) => `${lines.join('')}\n`).join(''));
  return path;
}

export function runAgiLoad(binary: string, templates: string, ports: number | readonly number[], mode: AgiLoadMode, offset = 0): Promise<AgiLoadResult> {
  const args = ['--env', templates, '--offset', String(offset)];
  for (const port of [ports].flat()) args.push('--port', String(port));
  const { timeoutMs, ...counts } = mode;
  for (const [name, value] of Object.entries(counts)) args.push(`--${name}`, String(value));
  if (timeoutMs !== undefined) args.push('--timeout-ms', String(timeoutMs));
  return new Promise((resolveRun, reject) => {
    execFile(binary, args, { maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`agi-load ${args.join(' ')}: ${err.message} ${stderr}`));
      else resolveRun(JSON.parse(stdout) as AgiLoadResult);
    });
  });
}
