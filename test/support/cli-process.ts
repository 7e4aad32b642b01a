import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from './captures.js';

const BIN = resolve(repoRoot, 'src/cli/bin.ts');
// An absolute loader URL: the command may run in any folder, as an installed dialguard does.
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `dialguard ARGS` as a real process, in `cwd`. Asynchronous, so that the servers a test runs in
 * its own process (SMTP, the ARI double) keep answering while the command talks to them. Only
 * the environment given is passed, plus PATH and HOME: the developer's DIALGUARD_* never leak in.
 */
export function runCli(args: string[], options: { cwd: string; env?: Record<string, string> }): Promise<CliRun> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, ['--import', TSX, BIN, ...args], {
      cwd: options.cwd,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', ...options.env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (status) => resolveRun({ status, stdout, stderr }));
  });
}

const shellQuote = (word: string): string => `'${word.replaceAll("'", "'\\''")}'`;

/** No `script` (util-linux), no terminal to run a command on: what is missing, or null. */
export function terminalMissing(): string | null {
  return existsSync('/usr/bin/script') ? null : 'no /usr/bin/script: apt-get install -y util-linux';
}

/**
 * `dialguard ARGS` with its stderr on a real pseudo-terminal (util-linux `script`), its stdout
 * redirected to `stdoutPath`: what a person running it in a terminal sees on stderr comes back as
 * `stderr`, carriage returns and escape sequences included.
 */
export function runCliOnTerminal(args: string[], options: { cwd: string; env?: Record<string, string>; stdoutPath: string }): Promise<CliRun> {
  const command = [process.execPath, '--import', TSX, BIN, ...args].map(shellQuote).join(' ');
  return new Promise((resolveRun, reject) => {
    const child = spawn('/usr/bin/script', ['-qefc', `${command} > ${shellQuote(options.stdoutPath)}`, '/dev/null'], {
      cwd: options.cwd,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let terminal = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (terminal += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (terminal += chunk));
    child.once('error', reject);
    child.once('close', (status) => resolveRun({ status, stdout: readFileSync(options.stdoutPath, 'utf8'), stderr: terminal }));
  });
}
