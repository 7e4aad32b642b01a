/**
 * A long-lived AMI connection that logs in for security events and hands each event block on.
 * It reconnects for as long as it runs, waiting `retryDelayMs` doubling up to `maxRetryDelayMs`
 * with jitter (so that guards restarted together do not hammer Asterisk in step), and logs the
 * state once per change: connected, or reconnecting in N s with the reason. The secret is sent in
 * the Login action and never logged: the URL is shown as `tcp://USER@HOST:PORT`.
 */
import net, { type Socket } from 'node:net';
import type { Logger } from 'pino';
import { amiUrlForLog, type AmiConfig } from '../config/config.js';
import { causeText, DialguardError } from '../errors.js';
import { AmiErrorCode, AmiStreamReader, loginAction, logoffAction, pingAction, MAX_BLOCK_BYTES, type AmiFields } from './protocol.js';

export type AmiState = 'connecting' | 'connected' | 'reconnecting' | 'closed';

/** Why a block was not handed on: not AMI grammar, or larger than the block limit. */
export type AmiUnparsed = 'malformed' | 'oversize';

export interface AmiClientOptions extends AmiConfig {
  logger: Logger;
  /** Each event block after login; must not throw (a throw is logged and the feed goes on). */
  onEvent(name: string, fields: AmiFields): void;
  /** Each block that was dropped. */
  onUnparsed?(reason: AmiUnparsed): void;
  /** Called on every change of `connected`. */
  onConnectedChange?(connected: boolean): void;
  /** From connect() to the banner. Default 5000. */
  connectTimeoutMs?: number;
  /** From Login to its answer; Asterisk answers a bad login after 1 s. Default 5000. */
  loginTimeoutMs?: number;
  /** First wait before connecting again; doubles per failed attempt. Default 1000. */
  retryDelayMs?: number;
  /** Default 60000. */
  maxRetryDelayMs?: number;
  /**
   * A Ping every so often: Asterisk sends nothing on a quiet PBX, and a peer that vanished (power
   * cut, NAT timeout) would otherwise look connected forever. Default 30000.
   */
  pingIntervalMs?: number;
  /** Default 10000. */
  pingTimeoutMs?: number;
  maxBlockBytes?: number;
  /** Uniform in [0, 1): the jitter. Default Math.random. */
  random?: () => number;
}

export interface AmiClient {
  readonly state: AmiState;
  readonly connected: boolean;
  /** Logs off, stops reconnecting; resolves when the connection is closed. Idempotent. */
  close(): Promise<void>;
}

/**
 * The wait before reconnect attempt `attempt` (0-based): exponential, capped, then scaled into
 * [50 %, 100 %] of itself so that it never collapses to zero and never exceeds the cap.
 */
export function retryDelay(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const exponential = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(exponential * (0.5 + 0.5 * random()));
}

interface SessionEnd {
  loggedIn: boolean;
  error: unknown;
}

export function startAmiClient(options: AmiClientOptions): AmiClient {
  const {
    logger,
    connectTimeoutMs = 5000,
    loginTimeoutMs = 5000,
    retryDelayMs = 1000,
    maxRetryDelayMs = 60_000,
    pingIntervalMs = 30_000,
    pingTimeoutMs = 10_000,
    maxBlockBytes = MAX_BLOCK_BYTES,
    random = Math.random,
  } = options;
  const url = amiUrlForLog(options);
  const log = logger.child({ ami: url });
  let state: AmiState = 'connecting';
  let closed = false;
  let socket: Socket | null = null;
  let loggedIn = false;
  let actionCounter = 0;
  const stop = new AbortController();
  const nextActionId = (what: string): string => `dialguard-${what}-${++actionCounter}`;

  function setConnected(value: boolean): void {
    if (loggedIn === value) return;
    loggedIn = value;
    options.onConnectedChange?.(value);
  }

  function session(): Promise<SessionEnd> {
    return new Promise<SessionEnd>((resolve) => {
      const sock = net.connect({ host: options.host, port: options.port });
      socket = sock;
      sock.setNoDelay(true);
      const reader = new AmiStreamReader(maxBlockBytes);
      let phase: 'banner' | 'login' | 'up' = 'banner';
      let sessionLoggedIn = false;
      let loginId = '';
      let pingId: string | null = null;
      let pingTimer: NodeJS.Timeout | undefined;
      let pingDeadline: NodeJS.Timeout | undefined;
      let timer: NodeJS.Timeout | undefined = setTimeout(
        () => finish(new DialguardError(AmiErrorCode.connectTimeout, `no AMI banner within ${connectTimeoutMs} ms`)),
        connectTimeoutMs,
      );
      let ended = false;

      function finish(error: unknown): void {
        if (ended) return;
        ended = true;
        clearTimeout(timer);
        clearInterval(pingTimer);
        clearTimeout(pingDeadline);
        sock.destroy();
        if (socket === sock) socket = null;
        setConnected(false);
        resolve({ loggedIn: sessionLoggedIn, error });
      }

      function sendPing(): void {
        if (pingId !== null) return;
        pingId = nextActionId('ping');
        sock.write(pingAction(pingId));
        pingDeadline = setTimeout(() => finish(new DialguardError(AmiErrorCode.pingTimeout, `no answer to Ping within ${pingTimeoutMs} ms`)), pingTimeoutMs);
      }

      function onLoginAnswer(fields: AmiFields): void {
        clearTimeout(timer);
        timer = undefined;
        if (fields.get('Response') !== 'Success') {
          const message = fields.get('Message') ?? fields.get('Response') ?? '';
          finish(new DialguardError(AmiErrorCode.loginRefused, `AMI login refused: ${message}`));
          return;
        }
        phase = 'up';
        sessionLoggedIn = true;
        state = 'connected';
        setConnected(true);
        log.info('AMI connected');
        pingTimer = setInterval(sendPing, pingIntervalMs);
        pingTimer.unref();
      }

      function deliver(name: string, fields: AmiFields): void {
        try {
          options.onEvent(name, fields);
        } catch (err) {
          log.error({ err, event: name }, 'AMI event handler failed; the feed goes on');
        }
      }

      sock.on('data', (chunk: Buffer) => {
        let parsed;
        try {
          parsed = reader.push(chunk);
        } catch (err) {
          finish(err);
          return;
        }
        if (parsed.banner !== undefined) {
          clearTimeout(timer);
          phase = 'login';
          loginId = nextActionId('login');
          sock.write(loginAction(loginId, options.user, options.secret));
          timer = setTimeout(() => finish(new DialguardError(AmiErrorCode.loginTimeout, `no answer to Login within ${loginTimeoutMs} ms`)), loginTimeoutMs);
        }
        for (let i = 0; i < parsed.oversize; i++) {
          log.warn({ maxBlockBytes }, 'AMI block larger than the limit dropped');
          options.onUnparsed?.('oversize');
        }
        for (const block of parsed.blocks) {
          if (ended) return;
          if (block.kind === 'malformed') {
            log.debug({ reason: block.reason }, 'AMI block not understood, dropped');
            options.onUnparsed?.('malformed');
          } else if (block.kind === 'response') {
            const id = block.fields.get('ActionID');
            // A refused login is answered without the ActionID (the capture): the first answer is Login's.
            if (phase === 'login' && (id === undefined || id === loginId)) onLoginAnswer(block.fields);
            else if (id !== undefined && id === pingId) {
              pingId = null;
              clearTimeout(pingDeadline);
            }
          } else if (phase === 'up') {
            deliver(block.name, block.fields);
          }
        }
      });
      sock.on('error', (err) => finish(err));
      sock.on('close', () => finish(new DialguardError(AmiErrorCode.closed, 'Asterisk closed the AMI connection')));
    });
  }

  async function run(): Promise<void> {
    let attempt = 0;
    let lastReason: string | null = null;
    while (!closed) {
      const end = await session();
      if (closed) break;
      if (end.loggedIn) attempt = 0;
      const delayMs = retryDelay(attempt++, retryDelayMs, maxRetryDelayMs, random);
      const reason = describe(end.error);
      state = 'reconnecting';
      const fields = { reason, code: errorCode(end.error), retryInMs: delayMs };
      const message = `AMI ${end.loggedIn ? 'connection lost' : 'connection failed'}; reconnecting in ${(delayMs / 1000).toFixed(1)} s`;
      // The same failure again and again (Asterisk down for an hour) is one warning, then debug lines.
      if (end.loggedIn || reason !== lastReason) log.warn(fields, message);
      else log.debug(fields, message);
      lastReason = end.loggedIn ? null : reason;
      await sleep(delayMs, stop.signal);
      if (!closed) state = 'connecting';
    }
  }

  const running = run();
  let closing: Promise<void> | undefined;

  return {
    get state() {
      return state;
    },
    get connected() {
      return loggedIn;
    },
    close() {
      closing ??= (async () => {
        closed = true;
        stop.abort();
        const sock = socket;
        if (sock && loggedIn) {
          // Logoff lets Asterisk log "logged off" instead of a dropped connection; it closes after answering.
          sock.write(logoffAction(nextActionId('logoff')));
          const force = setTimeout(() => sock.destroy(), 1000);
          await running;
          clearTimeout(force);
        } else {
          sock?.destroy();
          await running;
        }
        state = 'closed';
        log.info('AMI connection closed');
      })();
      return closing;
    },
  };
}

function describe(error: unknown): string {
  return error instanceof DialguardError ? error.message : causeText(error);
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
