/**
 * The FastAGI listener: routes each session by its script path to a handler, bounds it by the
 * answer deadline, and always closes it, because Asterisk has no read timeout and would hold the
 * call for as long as the connection stays open (agi-server-silent.json).
 */
import { readFileSync } from 'node:fs';
import net, { type Socket } from 'node:net';
import type { Logger } from 'pino';
import { ConfigError, DeadlineError, DialguardError } from '../errors.js';
import { compileNetworks, parseAddress, parseNetwork, type NetworkList } from '../net/address.js';
import type { GroupCommitQueue } from '../guard/decision-queue.js';
import { AnswerDeadline } from './answer-deadline.js';
import { AgiErrorCode } from './protocol.js';
import { AgiSession, type AgiSessionOptions } from './session.js';

/** Serves one session; must finish soon after `deadline` has passed. The server closes the session. */
export type AgiHandler = (session: AgiSession, deadline: AnswerDeadline) => Promise<void>;

/**
 * Answers a session that no handler could: `cause` says why (DG_AGI_UNKNOWN_PATH, or what the
 * handler threw). Its deadline is `fallbackTimeoutMs` after it starts.
 */
export type AgiFallback = (session: AgiSession, deadline: AnswerDeadline, cause: unknown) => Promise<void>;

export interface AgiServerOptions {
  host: string;
  port: number;
  /** By script path without the query string: `{ authorize, settle }`. */
  handlers: Record<string, AgiHandler>;
  logger: Logger;
  /** From accept to the deadline given to the handler. Default 1500. */
  answerDeadlineMs?: number;
  /** How long after the deadline a handler may still run before the session is closed under it. Default 500. */
  handlerGraceMs?: number;
  /** Time given to a fallback. Default 500. */
  fallbackTimeoutMs?: number;
  envTimeoutMs?: number;
  idleTimeoutMs?: number;
  commandTimeoutMs?: number;
  closeGraceMs?: number;
  /**
   * Sessions served at once. One more is closed as soon as it is accepted, before anything is
   * read: Asterisk then sees AGISTATUS=SUCCESS with nothing set, which the shipped dialplan
   * treats as "the guard did not answer". Default 256.
   */
  maxConnections?: number;
  /**
   * Length of the kernel's queue of connections not yet accepted. Default 4096; Linux caps it at
   * net.core.somaxconn (a warning says so). Node's default, 511, overflows under a burst of calls
   * and every connection beyond it waits a SYN retransmission (1 s, then 3 s) or fails.
   */
  backlog?: number;
  /**
   * Addresses or CIDRs allowed to connect. Default: loopback only when bound to a loopback
   * address, anyone otherwise.
   */
  allowFrom?: string[];
  /** On close(), how long sessions in flight may take before they are destroyed. Default 3000. */
  shutdownGraceMs?: number;
  onUnknownPath?: AgiFallback;
  onHandlerError?: AgiFallback;
  /** Told of each session from its accept until its environment is complete (or it ended): the decision queue's group commit waits for them. */
  arrivals?: Pick<GroupCommitQueue, 'expect'>;
}

export interface AgiServerAddress {
  host: string;
  port: number;
}

export interface AgiServer {
  listen(): Promise<AgiServerAddress>;
  /** Stops accepting, lets sessions in flight finish up to the shutdown grace, then destroys them. */
  close(): Promise<void>;
  address(): AgiServerAddress | null;
}

type Outcome = { status: 'done' } | { status: 'failed'; error: unknown } | { status: 'timeout' };

export function createAgiServer(options: AgiServerOptions): AgiServer {
  const {
    host,
    port,
    logger,
    answerDeadlineMs = 1500,
    handlerGraceMs = 500,
    fallbackTimeoutMs = 500,
    maxConnections = 256,
    backlog = DEFAULT_BACKLOG,
    shutdownGraceMs = 3000,
  } = options;
  const handlers = new Map(Object.entries(options.handlers));
  const isAllowed = compileAllowList(options.allowFrom, host);
  const sessionOptions: AgiSessionOptions = {
    envTimeoutMs: options.envTimeoutMs,
    idleTimeoutMs: options.idleTimeoutMs,
    commandTimeoutMs: options.commandTimeoutMs,
    closeGraceMs: options.closeGraceMs,
  };
  const sockets = new Set<Socket>();
  const server = net.createServer((socket) => onConnection(socket));
  // Node closes a connection over the cap before it makes a Socket of it: shedding a flood costs
  // little next to the sessions already admitted, which go on being served in between.
  server.maxConnections = maxConnections;
  server.on('drop', (peer) => onShed(peer?.remoteAddress));
  server.on('error', (err) => logger.error({ err }, 'AGI server error'));
  let closing: Promise<void> | undefined;
  // A flood sheds hundreds of connections a second: one warning at once, then one a second with the count.
  let shedSinceLog = 0;
  let shedLogTimer: NodeJS.Timeout | undefined;

  function onShed(remote: string | undefined): void {
    shedSinceLog++;
    if (shedLogTimer) return;
    logShed(remote);
    shedLogTimer = setTimeout(() => {
      shedLogTimer = undefined;
      if (shedSinceLog > 0) logShed(undefined);
    }, SHED_LOG_INTERVAL_MS);
    shedLogTimer.unref();
  }

  function logShed(remote: string | undefined): void {
    logger.warn({ shed: shedSinceLog, maxConnections, ...(remote ? { remote } : {}) }, 'AGI connections shed: too many sessions at once');
    shedSinceLog = 0;
  }

  function onConnection(socket: Socket): void {
    const remote = socket.remoteAddress ?? '';
    if (!isAllowed(remote)) {
      logger.warn({ remote }, 'AGI connection refused: address not allowed');
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    serve(socket, remote).catch((err: unknown) => {
      logger.error({ remote, err }, 'AGI session failed unexpectedly');
      socket.destroy();
    });
  }

  async function serve(socket: Socket, remote: string): Promise<void> {
    const acceptedAt = Date.now();
    const deadline = new AnswerDeadline(acceptedAt + answerDeadlineMs, () => new DeadlineError(`no answer within ${answerDeadlineMs} ms`));
    let session: AgiSession;
    const arrived = options.arrivals?.expect();
    try {
      session = await AgiSession.accept(socket, sessionOptions);
    } catch (err) {
      arrived?.();
      const closedEarly = err instanceof DialguardError && err.code === AgiErrorCode.closed;
      logger[closedEarly ? 'debug' : 'warn']({ remote, err }, 'AGI peer cut off before a complete environment');
      return;
    }
    arrived?.();
    // The query string is left out of the log: a site may put a token in the AGI URL. The child
    // logger is made when a line is written: most sessions write none here.
    const { channel, uniqueid, path } = session.env;
    let child: Logger | undefined;
    const log = (): Logger => (child ??= logger.child({ channel, uniqueid, path, remote }));
    try {
      const hardStopMs = acceptedAt + answerDeadlineMs + handlerGraceMs - Date.now();
      await dispatch(session, deadline, hardStopMs, log);
    } finally {
      deadline.dispose();
      await session.close();
      if (logger.isLevelEnabled('debug')) log().debug({ ms: Date.now() - acceptedAt, hungUp: session.hungUp }, 'AGI session closed');
    }
  }

  async function dispatch(session: AgiSession, deadline: AnswerDeadline, hardStopMs: number, log: () => Logger): Promise<void> {
    const handler = handlers.get(session.env.path);
    if (!handler) {
      log().warn('AGI request for an unknown path');
      const cause = new DialguardError(AgiErrorCode.unknownPath, `no handler for AGI path "${session.env.path}"`);
      await runFallback(options.onUnknownPath, session, cause, log);
      return;
    }
    const outcome = await within(() => handler(session, deadline), hardStopMs);
    if (outcome.status === 'failed') {
      log().error({ err: outcome.error }, 'AGI handler failed');
      await runFallback(options.onHandlerError, session, outcome.error, log);
    } else if (outcome.status === 'timeout') {
      // The handler may still be writing: a fallback could interleave with it, so only close.
      log().error({ deadlineMs: answerDeadlineMs, graceMs: handlerGraceMs }, 'AGI handler ignored its deadline; closing the session');
    }
  }

  async function runFallback(fallback: AgiFallback | undefined, session: AgiSession, cause: unknown, log: () => Logger): Promise<void> {
    if (!fallback) return;
    if (!session.usable) {
      log().warn('AGI session no longer usable: fallback skipped');
      return;
    }
    const deadline = new AnswerDeadline(Date.now() + fallbackTimeoutMs, () => new DeadlineError(`no fallback answer within ${fallbackTimeoutMs} ms`));
    const outcome = await within(() => fallback(session, deadline, cause), fallbackTimeoutMs);
    deadline.dispose();
    if (outcome.status === 'failed') log().error({ err: outcome.error }, 'AGI fallback failed');
    else if (outcome.status === 'timeout') log().error({ timeoutMs: fallbackTimeoutMs }, 'AGI fallback did not finish in time');
  }

  function address(): AgiServerAddress | null {
    const bound = server.address();
    return bound && typeof bound === 'object' ? { host: bound.address, port: bound.port } : null;
  }

  return {
    listen() {
      return new Promise<AgiServerAddress>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host, port, backlog }, () => {
          server.off('error', reject);
          const somaxconn = kernelBacklogLimit();
          if (somaxconn !== null && somaxconn < backlog) {
            logger.warn({ backlog, somaxconn }, 'AGI listen backlog capped by the kernel');
          }
          const bound = address();
          if (bound) resolve(bound);
          else reject(new ConfigError('AGI server has no address after listen'));
        });
      });
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          for (const socket of sockets) socket.destroy();
        }, shutdownGraceMs);
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
      });
      return closing;
    },
    address,
  };
}

const DEFAULT_BACKLOG = 4096;
const SHED_LOG_INTERVAL_MS = 1000;

/** net.core.somaxconn on Linux, which caps every listen backlog; null elsewhere. */
function kernelBacklogLimit(): number | null {
  try {
    const value = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8'));
    return Number.isInteger(value) ? value : null;
  } catch {
    return null;
  }
}

/** Runs `task` (sync throws included) and reports how it ended, waiting at most `ms`. */
function within(task: () => Promise<void>, ms: number): Promise<Outcome> {
  return new Promise<Outcome>((resolve) => {
    const timer = setTimeout(() => resolve({ status: 'timeout' }), Math.max(0, ms));
    const finish = (outcome: Outcome): void => {
      clearTimeout(timer);
      resolve(outcome);
    };
    Promise.resolve()
      .then(task)
      .then(
        () => finish({ status: 'done' }),
        (error: unknown) => finish({ status: 'failed', error }),
      );
  });
}

/**
 * Compiled once: a predicate on the remote address of each connection. Entries follow
 * src/net/address.ts; an IPv4 client of a dual-stack listener (`::ffff:a.b.c.d`) is its IPv4 address.
 */
export function compileAllowList(allowFrom: string[] | undefined, host: string): (address: string) => boolean {
  const allowed = allowFrom ? networkSet(allowFrom) : isLoopbackHost(host) ? LOOPBACK : null;
  if (allowed === null) return () => true;
  return (remote) => {
    const address = parseAddress(remote);
    return address !== null && allowed.match(address) === true;
  };
}

function networkSet(entries: string[]): NetworkList<true> {
  return compileNetworks(
    entries.map((entry) => {
      const network = parseNetwork(entry);
      if (network === null) throw new ConfigError(`allowFrom: "${entry}" is not an IP address or CIDR`, { entry });
      return [network, true] as const;
    }),
  );
}

const LOOPBACK = networkSet(['127.0.0.0/8', '::1']);

function isLoopbackHost(host: string): boolean {
  const address = parseAddress(host);
  return host === 'localhost' || (address !== null && LOOPBACK.match(address) === true);
}
