import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { MAX_AGI_CONNECT_MS, percentile, playSessionOutcome, type SessionOutcome } from './asterisk-load.js';

/**
 * What a burst of connections opened at once does to a legitimate session, against a guard with
 * the shipped session cap (1,024) and listen backlog. Loopback only; every connection is bounded.
 *
 * - `alone`: the probe sessions one after another with nothing else running: the reference.
 * - `calls`: CONNECTIONS whole Asterisk sessions opened at once (a burst of calls after an
 *   Asterisk restart), the probes started one every PROBE_EVERY_MS from the same moment.
 * - `silent`: CONNECTIONS connections that send nothing (a hung peer, a scan from inside the
 *   allowed network): the admitted ones hold their slot until the environment timeout (1 s).
 *
 * The flood comes from a process of its own (flood-peer.ts), so that the probes are timed by an
 * idle event loop. A session's time runs from its connect() to the guard's close, as AGI() waits:
 * `answered` (the guard set its variables), `shed` (closed with nothing set: the dialplan fails
 * closed at once) or `connect-timeout` (no handshake within Asterisk's 2000 ms: the accept queue
 * overflowed; AGISTATUS=FAILURE).
 */

export interface FloodOptions {
  connections: number;
  probes: number;
  probeEveryMs: number;
}

export interface FloodScenario {
  scenario: 'alone' | 'calls' | 'silent';
  probes: SessionOutcome[];
  flood: SessionOutcome[];
  /** CPU the flood's own process used: it shares the machine's cores with the guard. */
  floodCpuSeconds: number;
  /** TcpExt ListenOverflows meanwhile, machine-wide (other programs count too); null off Linux. */
  listenOverflows: number | null;
}

const ROOT = resolve(import.meta.dirname, '../..');
const PEER = resolve(import.meta.dirname, 'flood-peer.ts');

export async function runConnectionFlood(port: number, env: (i: number) => readonly string[], options: FloodOptions): Promise<FloodScenario[]> {
  const { connections, probes, probeEveryMs } = options;
  const probe = (i: number): Promise<SessionOutcome> => playSessionOutcome(port, env(i), MAX_AGI_CONNECT_MS);
  const results: FloodScenario[] = [];

  let overflows = listenOverflows();
  const alone: SessionOutcome[] = [];
  for (let i = 0; i < probes; i++) alone.push(await probe(i));
  results.push({ scenario: 'alone', probes: alone, flood: [], floodCpuSeconds: 0, listenOverflows: since(overflows) });

  for (const scenario of ['calls', 'silent'] as const) {
    await answeredAgain(probe);
    overflows = listenOverflows();
    const peer = floodPeer(port, connections, scenario);
    await peer.opened;
    const probed: Promise<SessionOutcome>[] = [];
    for (let i = 0; i < probes; i++) {
      probed.push(probe(i));
      await new Promise((r) => setTimeout(r, probeEveryMs));
    }
    const [flood, probeOutcomes] = await Promise.all([peer.done, Promise.all(probed)]);
    results.push({ scenario, probes: probeOutcomes, flood: flood.outcomes, floodCpuSeconds: flood.cpuSeconds, listenOverflows: since(overflows) });
  }
  return results;
}

interface PeerResult {
  outcomes: SessionOutcome[];
  cpuSeconds: number;
}

function floodPeer(port: number, connections: number, mode: 'calls' | 'silent'): { opened: Promise<void>; done: Promise<PeerResult> } {
  const child = spawn(process.execPath, ['--import', 'tsx', PEER, String(port), String(connections), mode], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  let markOpened!: () => void;
  const opened = new Promise<void>((r) => (markOpened = r));
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    if (output.startsWith('opened\n')) markOpened();
  });
  const done = new Promise<PeerResult>((resolveDone, reject) => {
    child.once('exit', (code) => {
      const [, json] = output.split('\n');
      if (code === 0 && json) resolveDone(JSON.parse(json) as PeerResult);
      else reject(new Error(`flood peer exited ${code}`));
    });
  });
  // A peer that dies before opening must not leave the caller waiting.
  done.catch(() => markOpened());
  return { opened, done };
}

/** Waits until the guard answers again: the previous scenario's connections are all gone. */
async function answeredAgain(probe: (i: number) => Promise<SessionOutcome>): Promise<void> {
  for (let i = 0; i < 50; i++) {
    await new Promise((r) => setTimeout(r, 200));
    if ((await probe(i)).commands > 0) return;
  }
  throw new Error('the guard does not answer again after the flood');
}

function outcomeOf(o: SessionOutcome): 'answered' | 'shed' | 'connect-timeout' {
  return o.commands > 0 ? 'answered' : o.end === 'connect-timeout' ? 'connect-timeout' : 'shed';
}

/** One row per scenario, side (probes or flood) and outcome, with the time it took. */
export function floodRows(results: readonly FloodScenario[]): Record<string, string | number>[] {
  return results.flatMap(({ scenario, probes, flood, floodCpuSeconds, listenOverflows }) =>
    (
      [
        ['probes', probes],
        ['flood', flood],
      ] as const
    ).flatMap(([who, outcomes]) =>
      (['answered', 'shed', 'connect-timeout'] as const).flatMap((outcome) => {
        const sorted = outcomes
          .filter((o) => outcomeOf(o) === outcome)
          .map((o) => o.ms)
          .sort((a, b) => a - b);
        if (sorted.length === 0) return [];
        const ms = (p: number): number => +percentile(sorted, p).toFixed(1);
        return [
          {
            scenario,
            who,
            outcome,
            sessions: sorted.length,
            'p50 ms': ms(50),
            'p99 ms': ms(99),
            'max ms': +(sorted.at(-1) as number).toFixed(1),
            'listen overflows': listenOverflows ?? 'n/a',
            'flood CPU s': +floodCpuSeconds.toFixed(2),
          },
        ];
      }),
    ),
  );
}

function listenOverflows(): number | null {
  try {
    const [names, values] = readFileSync('/proc/net/netstat', 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('TcpExt:'))
      .map((l) => l.split(/\s+/));
    const at = names?.indexOf('ListenOverflows') ?? -1;
    return at > 0 ? Number(values?.[at]) : null;
  } catch {
    return null;
  }
}

function since(before: number | null): number | null {
  const now = listenOverflows();
  return before === null || now === null ? null : now - before;
}
