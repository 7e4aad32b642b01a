/**
 * Guards that do not answer, as dialplan-deadline.md and agi-server-down.json met them:
 * - a mute FastAGI guard (a hung process, SIGSTOP, an overloaded host): it accepts and reads,
 *   and writes nothing, or only the first commands of an answer, each after the previous reply;
 * - a port whose TCP handshake never completes: its accept queue is full and nothing accepts.
 */
import net, { type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { listen } from '../agi/wire.js';

export interface MuteSession {
  /** Everything Asterisk wrote, in order. */
  received: string;
  acceptedMs: number;
  /** When Asterisk closed its side (FIN); undefined while it keeps the session open. */
  asteriskClosedMs?: number;
  /** The agi_* environment, once complete. */
  env: Map<string, string>;
}

export interface MuteGuard {
  port: number;
  url: string;
  sessions: MuteSession[];
  close(): Promise<void>;
}

export interface MuteGuardOptions {
  /** Commands sent first (LF added), each after the previous reply; then nothing more. */
  commands?: string[];
  /** Close each connection this long after accepting it (the lab's mute guard: 12 s). Default never. */
  closeAfterMs?: number;
}

export async function startMuteGuard(options: MuteGuardOptions = {}): Promise<MuteGuard> {
  const sessions: MuteSession[] = [];
  const t0 = performance.now();
  const listener = await listen(
    (socket: Socket) => {
      const session: MuteSession = { received: '', acceptedMs: performance.now() - t0, env: new Map() };
      sessions.push(session);
      const commands = [...(options.commands ?? [])];
      let envDone = false;
      let awaitingReply = false;
      socket.on('data', (chunk: Buffer) => {
        session.received += chunk.toString('utf8');
        if (!envDone) {
          const end = session.received.indexOf('\n\n');
          if (end < 0) return;
          envDone = true;
          for (const line of session.received.slice(0, end).split('\n')) {
            const colon = line.indexOf(': ');
            session.env.set(line.slice(0, colon), line.slice(colon + 2));
          }
        } else if (awaitingReply && /^\d{3} /m.test(chunk.toString('utf8'))) {
          awaitingReply = false;
        } else {
          return;
        }
        const next = commands.shift();
        if (next !== undefined && !socket.destroyed) {
          awaitingReply = true;
          socket.write(`${next}\n`);
        }
      });
      socket.on('end', () => (session.asteriskClosedMs = performance.now() - t0));
      if (options.closeAfterMs !== undefined) setTimeout(() => socket.end(), options.closeAfterMs).unref();
    },
    { allowHalfOpen: true },
  );
  return { port: listener.port, url: `agi://127.0.0.1:${listener.port}`, sessions, close: () => listener.close() };
}

export interface StalledPort {
  port: number;
  url: string;
  close(): Promise<void>;
}

/**
 * A listening port that completes no more handshakes: a backlog of 1 filled by two connections
 * that are never accepted (the worker that owns the socket never returns to its event loop), so
 * the kernel drops every further SYN, as with the capture's full accept queue.
 */
export async function startStalledPort(): Promise<StalledPort> {
  const release = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(
    `const { workerData, parentPort } = require('node:worker_threads');
     const server = require('node:net').createServer();
     server.listen({ host: '127.0.0.1', port: 0, backlog: 1 }, () => {
       parentPort.postMessage(server.address().port);
       Atomics.wait(workerData, 0, 0);
     });`,
    { eval: true, workerData: release },
  );
  const port = await new Promise<number>((resolve, reject) => worker.once('message', resolve).once('error', reject));
  const fillers = await Promise.all(
    [1, 2].map(
      () =>
        new Promise<Socket>((resolve, reject) => {
          const socket = net.connect({ host: '127.0.0.1', port }, () => resolve(socket));
          socket.once('error', reject);
        }),
    ),
  );
  return {
    port,
    url: `agi://127.0.0.1:${port}`,
    async close() {
      for (const socket of fillers) socket.destroy();
      Atomics.store(release, 0, 1);
      Atomics.notify(release, 0);
      await worker.terminate();
    },
  };
}

/** A port nothing listens on: connecting is refused at once. */
export async function refusedPort(): Promise<{ port: number; url: string }> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return { port, url: `agi://127.0.0.1:${port}` };
}
