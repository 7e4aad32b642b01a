/**
 * The one module that touches ari-client (2.2.0, untyped): it connects, keeps the events
 * websocket up, hands the rest of dialguard parsed events and two channel operations whose
 * promises always settle, and logs the connection state once per change.
 *
 * Reconnecting has two layers. A dropped websocket is reopened by ari-client itself (100 ms
 * doubling to 10 s, 10 attempts, the REST API stays loaded); when it gives up, this module
 * connects again from scratch (api-docs included, since Asterisk may have been upgraded),
 * waiting `retryDelayMs` doubling up to `maxRetryDelayMs`, for as long as it takes.
 */
import { createRequire } from 'node:module';
import type { Logger } from 'pino';
import { ConfigError } from '../errors.js';
import { ARI_EVENT_TYPES, parseAriEvent, type AriEvent } from './events.js';
import { preflight } from './preflight.js';
import { credentialScrubber } from '../redact.js';

export type AriState = 'connecting' | 'connected' | 'reconnecting' | 'unauthorized' | 'unreachable' | 'failed' | 'closed';

export interface AriClientOptions {
  /** http(s)://HOST:PORT of Asterisk's HTTP server; ari-client adds /ari itself. */
  url: string;
  user: string;
  password: string;
  app: string;
  logger: Logger;
  /** Called for each event of the app; must not throw (a throw is logged and dropped). */
  onEvent(event: AriEvent): void;
  /** Wait before connecting again after a failed connect; doubles up to maxRetryDelayMs. Default 1000. */
  retryDelayMs?: number;
  /** Default 30000. */
  maxRetryDelayMs?: number;
  /** Limit for the api-docs check and load. Default 10000. */
  connectTimeoutMs?: number;
}

/** `gone`: the channel hung up or left Stasis (404). `rejected`: any other error answer. */
export type ChannelOpResult = { ok: true } | { ok: false; reason: 'gone' | 'rejected' | 'timeout' | 'disconnected'; detail: string };

export interface AriClient {
  readonly state: AriState;
  readonly connected: boolean;
  /** POST /channels/{id}/variable; never rejects. Still works after close(), for the channels in flight. */
  setVariable(channelId: string, name: string, value: string, timeoutMs: number): Promise<ChannelOpResult>;
  /** POST /channels/{id}/continue; never rejects. */
  continueInDialplan(channelId: string, timeoutMs: number): Promise<ChannelOpResult>;
  /** Stops reconnecting and closes the websocket: no more events. */
  close(): Promise<void>;
}

/** The part of ari-client's client object used here. */
interface RawClient {
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  start(app: string): PromiseLike<void>;
  stop(): void;
  channels: {
    setChannelVar(params: { channelId: string; variable: string; value: string }): PromiseLike<unknown>;
    continueInDialplan(params: { channelId: string }): PromiseLike<unknown>;
  };
  /** ari-client's "websocket closed on purpose" flag (see stopRaw). */
  _wsClosed?: boolean;
}

interface AriClientModule {
  connect(url: string, user: string, password: string): PromiseLike<RawClient>;
}

interface SwaggerClientModule {
  SwaggerApi: { prototype: { fail(this: { failure(message: string): void }, message: string): void } };
}

const require = createRequire(import.meta.url);
let loaded: AriClientModule | undefined;

/** Loaded on first use: a guard without ARI never loads ari-client and its dependencies. */
function loadAriClient(): AriClientModule {
  if (!loaded) {
    loaded = require('ari-client') as AriClientModule;
    patchSwaggerClient();
  }
  return loaded;
}

/**
 * swagger-client 2.0.26, which ari-client loads the API with, has two habits a server cannot
 * keep: when an api-docs fetch fails (401, 500…) it rejects AND throws the message from inside
 * the HTTP callback, an uncaught exception that would stop dialguard on a wrong password; and it
 * prints to stdout through a global `log` ("deprecated version of Swagger" on every connect).
 */
function patchSwaggerClient(): void {
  const swagger = createRequire(require.resolve('ari-client'))('swagger-client') as SwaggerClientModule;
  swagger.SwaggerApi.prototype.fail = function fail(message) {
    this.failure(message);
  };
  (globalThis as { log?: unknown }).log = () => undefined;
}

const STATE_LOG: Record<AriState, { level: 'info' | 'warn' | 'error'; msg: string }> = {
  connecting: { level: 'info', msg: 'ARI connecting' },
  connected: { level: 'info', msg: 'ARI connected' },
  reconnecting: { level: 'warn', msg: 'ARI connection lost; reconnecting' },
  unreachable: { level: 'warn', msg: 'ARI unreachable; retrying' },
  unauthorized: {
    level: 'error',
    msg: 'ARI refused the credentials (HTTP 401): check DIALGUARD_ARI_USER and DIALGUARD_ARI_PASSWORD against ari.conf; retrying',
  },
  failed: { level: 'error', msg: 'ARI connection failed; retrying' },
  closed: { level: 'info', msg: 'ARI closed' },
};

/** Asterisk's answers for a channel that hung up or is no longer in Stasis (ari-errors.json). */
const GONE = /^(Channel not found|Provided channel was not found)$|not in a Stasis application/i;

export function startAriClient(options: AriClientOptions): AriClient {
  const origin = checkAriSettings(options);
  const { user, password, app } = options;
  const ariClient = loadAriClient();
  const retryDelayMs = options.retryDelayMs ?? 1000;
  const maxRetryDelayMs = options.maxRetryDelayMs ?? 30_000;
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  const scrub = credentialScrubber(user, password);
  const log = options.logger.child({ ari: origin, app });

  let state: AriState = 'connecting';
  /** The client whose REST API is loaded; null between a give-up and the next connect. */
  let current: RawClient | null = null;
  let failures = 0;
  let retryTimer: NodeJS.Timeout | null = null;
  let closed = false;

  const setState = (next: AriState, details: Record<string, unknown> = {}): void => {
    if (next === state) {
      log.debug({ state, ...details }, 'ARI state unchanged');
      return;
    }
    state = next;
    const { level, msg } = STATE_LOG[next];
    log[level]({ state: next, ...(next === 'unauthorized' ? { user } : {}), ...details }, msg);
  };

  const retryLater = (next: AriState, reason: string): void => {
    failures += 1;
    const retryInMs = Math.min(retryDelayMs * 2 ** (failures - 1), maxRetryDelayMs);
    setState(next, { reason, retryInMs });
    retryTimer = setTimeout(() => {
      retryTimer = null;
      void connect();
    }, retryInMs);
  };

  const connect = async (): Promise<void> => {
    try {
      const failure = await preflight(origin, user, password, connectTimeoutMs);
      if (closed) return;
      if (failure) {
        retryLater(failure.state, scrub(failure.reason));
        return;
      }
      const client = await withTimeout(ariClient.connect(origin, user, password), connectTimeoutMs);
      if (closed) return;
      attach(client);
    } catch (err) {
      const reason = scrub(errorText(err));
      if (!closed) retryLater(classify(reason), reason);
    }
  };

  const attach = (client: RawClient): void => {
    current = client;
    for (const type of ARI_EVENT_TYPES) {
      client.on(type, (raw: unknown) => {
        const event = parseAriEvent(raw);
        if (!event || closed) return;
        try {
          options.onEvent(event);
        } catch (err) {
          // Thrown into ari-client's websocket handler, it would be an uncaught exception.
          log.error({ err, type }, 'ARI event handler failed');
        }
      });
    }
    client.on('WebSocketConnected', () => {
      // A reconnect ari-client had scheduled before close(): shut it again.
      if (closed) return stopRaw(client);
      failures = 0;
      setState('connected');
    });
    client.on('WebSocketReconnecting', (err: unknown) => {
      if (closed) return;
      const reason = err === undefined ? 'websocket closed' : scrub(errorText(err));
      setState(classify(reason) === 'unauthorized' ? 'unauthorized' : 'reconnecting', { reason });
    });
    client.on('WebSocketMaxRetries', (err: unknown) => {
      if (current === client) current = null;
      const reason = scrub(errorText(err));
      if (!closed) retryLater(classify(reason), reason);
    });
    // Its failures arrive as the events above; the rejection itself says nothing more.
    client.start(app).then(undefined, () => undefined);
  };

  const operate = async (channelId: string, timeoutMs: number, call: (client: RawClient) => PromiseLike<unknown>): Promise<ChannelOpResult> => {
    const client = current;
    if (!client) return { ok: false, reason: 'disconnected', detail: 'ARI is not connected' };
    if (timeoutMs <= 0) return { ok: false, reason: 'timeout', detail: 'no time left' };
    try {
      // ari-client's HTTP layer never settles a request whose connection failed: hence the timeout.
      await withTimeout(call(client), timeoutMs);
      return { ok: true };
    } catch (err) {
      if (err instanceof OperationTimeout) return { ok: false, reason: 'timeout', detail: `no answer in ${timeoutMs} ms for channel ${channelId}` };
      const detail = scrub(asteriskMessage(err));
      return { ok: false, reason: GONE.test(detail) ? 'gone' : 'rejected', detail };
    }
  };

  log.info({ user }, 'ARI connecting');
  void connect();

  return {
    get state() {
      return state;
    },
    get connected() {
      return state === 'connected';
    },
    setVariable(channelId, name, value, timeoutMs) {
      return operate(channelId, timeoutMs, (c) => c.channels.setChannelVar({ channelId, variable: name, value }));
    },
    continueInDialplan(channelId, timeoutMs) {
      return operate(channelId, timeoutMs, (c) => c.channels.continueInDialplan({ channelId }));
    },
    async close() {
      if (closed) return;
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      retryTimer = null;
      if (current) stopRaw(current);
      setState('closed');
    },
  };
}

/** Throws a ConfigError for settings ari-client cannot work with; returns the origin it connects to. */
export function checkAriSettings(settings: Pick<AriClientOptions, 'url' | 'user' | 'password' | 'app'>): string {
  const origin = ariOrigin(settings.url);
  if (!/^[A-Za-z0-9_.-]+$/.test(settings.app)) {
    // ari-client puts the name in the websocket URL unencoded.
    throw new ConfigError(`ARI app name "${settings.app}" may only hold letters, digits, "_", "." and "-"`);
  }
  if (!/^[\x20-\x7e]*$/.test(settings.user + settings.password)) {
    // ari-client base64-encodes basic auth from latin1 bytes: Asterisk would never match them.
    throw new ConfigError('DIALGUARD_ARI_USER and DIALGUARD_ARI_PASSWORD must be printable ASCII (ari-client cannot send other characters)');
  }
  return origin;
}

/** The origin ari-client is given, from DIALGUARD_ARI_URL; a path is ignored (ARI lives at /ari). */
export function ariOrigin(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError('DIALGUARD_ARI_URL is not a URL: expected http://HOST:PORT of Asterisk\'s HTTP server, e.g. http://127.0.0.1:8088');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ConfigError(`DIALGUARD_ARI_URL must start with http:// or https://, not ${parsed.protocol}`);
  }
  if (parsed.username || parsed.password) {
    throw new ConfigError('DIALGUARD_ARI_URL must not hold credentials: set DIALGUARD_ARI_USER and DIALGUARD_ARI_PASSWORD');
  }
  return parsed.origin;
}

/**
 * ari-client's stop() sets its "closed on purpose" flag only after ws.close() returned, but ws
 * reports the abort of a connection still being opened synchronously, so ari-client would
 * schedule a reconnect after being stopped. Setting the flag first prevents that.
 */
function stopRaw(client: RawClient): void {
  client._wsClosed = true;
  try {
    client.stop();
  } catch {
    // stop() throws when start() never created a websocket: nothing to close.
  }
}

/** What a failure to connect says about the cause, from the text ari-client and ws give. */
function classify(reason: string): 'unauthorized' | 'unreachable' | 'failed' {
  if (/\b401\b/.test(reason)) return 'unauthorized';
  if (/ECONNREFUSED|ECONNRESET|ENOTFOUND|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|HostIsNotReachable|timed out/.test(reason)) return 'unreachable';
  return 'failed';
}

class OperationTimeout extends Error {}

function withTimeout<T>(promise: PromiseLike<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new OperationTimeout(`timed out after ${ms} ms`)), ms);
    Promise.resolve(promise).then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

/** ari-client turns an error answer into an Error whose message is the body: {"message": "…"}. */
function asteriskMessage(err: unknown): string {
  const text = errorText(err);
  try {
    const body = JSON.parse(text) as unknown;
    if (typeof body === 'object' && body !== null && typeof (body as { message?: unknown }).message === 'string') {
      return (body as { message: string }).message;
    }
  } catch {
    // Not an Asterisk error body: keep the text.
  }
  return text;
}

function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  return typeof err === 'string' ? err : 'unknown error';
}
