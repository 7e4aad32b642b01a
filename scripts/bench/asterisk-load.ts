import net from 'node:net';
import { performance } from 'node:perf_hooks';

/** MAX_AGI_CONNECT in res_agi.c: Asterisk abandons a handshake still pending after it. */
export const MAX_AGI_CONNECT_MS = 2000;

export interface SessionOutcome {
  /** From connect() to the server's FIN or RST: how long AGI() holds the call. */
  ms: number;
  /** Commands the server sent: 0 when it closed without answering (AGISTATUS=SUCCESS, nothing set). */
  commands: number;
  /**
   * `fin` or `reset`: how the server ended the session. `connect-timeout`: the handshake did not
   * complete within the connect timeout, after which Asterisk gives up (AGISTATUS=FAILURE).
   */
  end: 'fin' | 'reset' | 'connect-timeout';
}

/**
 * A load generator that talks like Asterisk 22 (agi-authorize-syscalls.txt): one write() per
 * environment line, a lone "\n", each command answered only after it arrived, and "HANGUP\n"
 * after the server's FIN. Kept lean so that the generator costs little CPU itself.
 */
export function playSessionOutcome(port: number, envLines: readonly string[], connectTimeoutMs = 0): Promise<SessionOutcome> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let elapsed = 0;
    let buffer = '';
    let commands = 0;
    let end: SessionOutcome['end'] = 'reset';
    let connected = false;
    const socket = net.connect({ port, host: '127.0.0.1', noDelay: true });
    const connectTimer =
      connectTimeoutMs > 0
        ? setTimeout(() => {
            end = 'connect-timeout';
            elapsed = performance.now() - started;
            socket.destroy();
          }, connectTimeoutMs)
        : undefined;
    socket.setEncoding('latin1');
    socket.on('connect', () => {
      connected = true;
      clearTimeout(connectTimer);
      for (const line of envLines) socket.write(line);
      socket.write('\n');
    });
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      let i: number;
      while ((i = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 1);
        commands++;
        socket.write(line.startsWith('NOOP') ? '200 result=0\n' : '200 result=1\n');
      }
    });
    socket.on('end', () => {
      // AGI() returns to the dialplan when the server closes: that is the latency Asterisk sees.
      elapsed = performance.now() - started;
      end = 'fin';
      socket.end('HANGUP\n');
    });
    socket.on('close', () => resolve({ ms: elapsed, commands, end }));
    socket.on('error', (err) => {
      if (!connected && end !== 'connect-timeout') {
        clearTimeout(connectTimer);
        reject(err);
      } else if (end !== 'fin') elapsed = performance.now() - started;
    });
  });
}

/** One session that the server must answer and close with a FIN; its latency in ms. */
export async function playSession(port: number, envLines: readonly string[]): Promise<number> {
  const outcome = await playSessionOutcome(port, envLines);
  if (outcome.end !== 'fin') throw new Error(`AGI session ended by ${outcome.end} after ${outcome.ms.toFixed(1)} ms`);
  return outcome.ms;
}

export interface RunResult {
  sessions: number;
  seconds: number;
  latenciesMs: number[];
  generatorCpuSeconds: number;
}

/** Session `i` goes to guard `i` modulo their number: several guards share one load. */
const portFor = (ports: number | readonly number[], i: number): number => (typeof ports === 'number' ? ports : (ports[i % ports.length] as number));

/** Closed loop: `concurrency` sessions in flight at all times, `total` in all. */
export async function runMaxRate(port: number | readonly number[], total: number, concurrency: number, env: (i: number) => readonly string[]): Promise<RunResult> {
  const latencies: number[] = [];
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const worker = async (): Promise<void> => {
    while (next < total) {
      const i = next++;
      latencies.push(await playSession(portFor(port, i), env(i)));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return finish(latencies, t0, cpu0);
}

/** Open loop: a session every 1/rate seconds, whatever the answers do. */
export async function runFixedRate(port: number | readonly number[], rate: number, seconds: number, env: (i: number) => readonly string[]): Promise<RunResult> {
  const total = Math.round(rate * seconds);
  const latencies: number[] = [];
  const pending: Promise<void>[] = [];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    pending.push(playSession(portFor(port, i), env(i)).then((ms) => void latencies.push(ms)));
  }
  await Promise.all(pending);
  return finish(latencies, t0, cpu0);
}

function finish(latencies: number[], t0: number, cpu0: NodeJS.CpuUsage): RunResult {
  const cpu = process.cpuUsage(cpu0);
  return { sessions: latencies.length, seconds: (performance.now() - t0) / 1000, latenciesMs: latencies, generatorCpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}
