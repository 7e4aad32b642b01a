/**
 * The flood of scripts/bench/connection-flood.ts, in a process of its own so that the probe
 * sessions are timed by an event loop that is not busy with 2,000 sockets.
 *
 * Usage: flood-peer.ts PORT COUNT calls|silent. Opens COUNT connections at once, prints
 * "opened" when every connect() is issued, then one JSON line: each connection's outcome and
 * the CPU this process used (it competes with the guard for the same cores).
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { authorizeEnv } from '../../test/support/asterisk-agi.js';
import { MAX_AGI_CONNECT_MS, playSessionOutcome, type SessionOutcome } from './asterisk-load.js';

/** A silent connection the guard has not closed by then is closed here, so that the run ends. */
const HOLD_LIMIT_MS = 10_000;

const [port, count, mode] = [Number(process.argv[2]), Number(process.argv[3]), process.argv[4]];
if (!Number.isInteger(port) || !Number.isInteger(count) || (mode !== 'calls' && mode !== 'silent')) {
  throw new Error('usage: flood-peer.ts PORT COUNT calls|silent');
}

/** Connects and sends nothing; ends when the guard closes the connection. */
function silentConnection(): Promise<SessionOutcome> {
  return new Promise((resolve) => {
    const started = performance.now();
    let end: SessionOutcome['end'] = 'reset';
    let connected = false;
    const socket = net.connect({ port, host: '127.0.0.1' });
    const timer = setTimeout(() => {
      if (!connected) end = 'connect-timeout';
      socket.destroy();
    }, HOLD_LIMIT_MS);
    socket.on('connect', () => (connected = true));
    socket.on('end', () => {
      end = 'fin';
      socket.end();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ ms: performance.now() - started, commands: 0, end });
    });
  });
}

const call = (i: number): Promise<SessionOutcome> => {
  const env = authorizeEnv({ ext: `${2000 + (i % 2000)}`, number: '12125550123', source: '192.168.1.20:5060', origin: 'phone', uniqueid: `1795264997.${i}` });
  return playSessionOutcome(port, env.map(([k, v]) => `${k}: ${v}\n`), MAX_AGI_CONNECT_MS);
};
const cpu0 = process.cpuUsage();
const outcomes = Array.from({ length: count }, (_, i) => (mode === 'calls' ? call(i) : silentConnection()));
process.stdout.write('opened\n');
const settled = await Promise.all(outcomes);
const cpu = process.cpuUsage(cpu0);
process.stdout.write(`${JSON.stringify({ outcomes: settled, cpuSeconds: (cpu.user + cpu.system) / 1e6 })}\n`);
