import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from './captures.js';

export interface ServeProcess {
  child: ChildProcessWithoutNullStreams;
  agiPort: number;
  httpPort: number;
  /** The admin token printed on first start, if one was generated. */
  adminToken: string | null;
  /** Every line the process printed, stdout and stderr, logs included. */
  output: string[];
  /** SIGTERM, then wait for the exit; resolves with the exit code. */
  stop(): Promise<number | null>;
}

const BIN = resolve(repoRoot, 'src/cli/bin.ts');
// By URL, not by name: a bare --import resolves from the working directory, which may be elsewhere.
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export interface ServeOptions {
  /** The working directory; default the repository (as `npm start`). */
  cwd?: string;
}

/** `dialguard serve` as a real process on random ports, with a database file of the test's. */
export async function startServe(dbPath: string, env: Record<string, string> = {}, options: ServeOptions = {}): Promise<ServeProcess> {
  const child = spawn(process.execPath, ['--import', TSX, BIN, 'serve'], {
    cwd: options.cwd ?? repoRoot,
    env: {
      ...process.env,
      DIALGUARD_DB: dbPath,
      DIALGUARD_AGI_LISTEN: '127.0.0.1:0',
      DIALGUARD_HTTP_LISTEN: '127.0.0.1:0',
      DIALGUARD_HOME_COUNTRY: 'US',
      DIALGUARD_TIMEZONE: 'America/New_York',
      DIALGUARD_LOG_LEVEL: 'info',
      ...env,
    },
  });
  const output: string[] = [];
  const collect = (chunk: Buffer): void => {
    output.push(...chunk.toString().split('\n').filter(Boolean));
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const portOf = (prefix: string): number | null => {
    const line = output.find((l) => l.startsWith(prefix));
    return line ? Number(line.slice(line.lastIndexOf(':') + 1)) : null;
  };
  const [agiPort, httpPort] = await new Promise<[number, number]>((resolvePorts, reject) => {
    const timer = setTimeout(() => reject(new Error(`dialguard serve did not start:\n${output.join('\n')}`)), 20_000);
    const look = (): void => {
      const agi = portOf('dialguard FastAGI listening on ');
      const http = portOf('dialguard admin API listening on ');
      // The database line comes last: by then the token line, if any, is out too.
      if (agi && http && output.some((l) => l.startsWith('dialguard database '))) {
        clearTimeout(timer);
        resolvePorts([agi, http]);
      }
    };
    child.stdout.on('data', look);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`dialguard serve exited ${code}:\n${output.join('\n')}`));
    });
  });
  const tokenLine = output.find((l) => l.startsWith('dialguard admin token'));
  return {
    child,
    agiPort,
    httpPort,
    adminToken: tokenLine ? (tokenLine.split(': ').pop() ?? null) : null,
    output,
    async stop() {
      // Exited already (by itself, or killed by a signal): nothing to wait for.
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      return code;
    },
  };
}

/** The structured log lines (pino JSON) the process printed. */
export function logLines(output: string[]): Array<Record<string, unknown>> {
  return output.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
}
