/** The processes the bench loads: `dialguard serve` and the null responder, and what /proc says of them. */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');

export interface Server {
  name: string;
  child: ChildProcess;
  port: number;
}

export const GUARD_READY = /FastAGI listening on [^\n]*:(\d+)\n/;
export const NULL_READY = /listening (\d+)\n/;

/** `dialguard serve` on a database, on random ports, as the bench configures it. */
export function guardEnv(database: string, maxConnections = 4096): Record<string, string> {
  return {
    DIALGUARD_DB: database,
    DIALGUARD_AGI_LISTEN: '127.0.0.1:0',
    DIALGUARD_HTTP_LISTEN: '127.0.0.1:0',
    DIALGUARD_HOME_COUNTRY: 'US',
    DIALGUARD_TIMEZONE: 'America/New_York',
    DIALGUARD_AGI_MAX_CONNECTIONS: String(maxConnections),
  };
}

/** The node options of `npm start` (package.json's `start`, `node OPTIONS… dist/cli/bin.js serve`), which the systemd unit sets too. */
export function startNodeOptions(): string[] {
  const { scripts } = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as { scripts: { start: string } };
  const words = scripts.start.trim().split(/\s+/);
  const script = words.indexOf('dist/cli/bin.js');
  if (words[0] !== 'node' || script === -1) throw new Error(`package.json start is not "node … dist/cli/bin.js serve": ${scripts.start}`);
  return words.slice(1, script);
}

/** The build's `serve` with the node options of `npm start` and the systemd unit: what an operator runs (tsx alone adds about 40 MB of RSS). */
export function startGuard(name: string, env: Record<string, string>, nodeArgs: string[] = []): Promise<Server> {
  return start(name, ['dist/cli/bin.js', 'serve'], GUARD_READY, env, [...startNodeOptions(), ...nodeArgs], false);
}

/** `npm run build`, so that the guard measured is the code of this checkout. */
export function buildGuard(): void {
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
}

export function startNull(): Promise<Server> {
  return start('null', ['scripts/bench/null-agi.ts'], NULL_READY);
}

export function start(name: string, args: string[], ready: RegExp, env: Record<string, string> = {}, nodeArgs: string[] = [], typescript = true): Promise<Server> {
  const child = spawn(process.execPath, [...nodeArgs, ...(typescript ? ['--import', 'tsx'] : []), ...args], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolvePort, reject) => {
    let seen = '';
    const onData = (chunk: Buffer): void => {
      seen += chunk.toString();
      const m = ready.exec(seen);
      if (m) {
        // From here on stdout (the guard logs every decision) is only drained, never parsed.
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        resolvePort({ name, child, port: Number(m[1]) });
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${name} exited ${code}`)));
  });
}

export function stop(server: Server): Promise<void> {
  return new Promise((r) => {
    if (server.child.exitCode !== null || server.child.signalCode !== null) return r();
    server.child.once('exit', () => r());
    server.child.kill('SIGTERM');
  });
}

/** User + system CPU seconds the process has used so far. */
export function procCpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Resident memory now (VmRSS) and its peak so far (VmHWM), in MB. */
export function memoryMb(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1]) / 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}
