import type { Logger } from 'pino';
import { createAgiServer, type AgiServer, type AgiServerAddress } from './agi/server.js';
import { createAuthorizeHandler, createGuardErrorFallback, createSettleHandler } from './agi/handlers.js';
import type { Config } from './config/config.js';
import { NO_OBSERVER, type GuardObserver } from './guard/observer.js';
import { openRuntime, type Runtime } from './runtime.js';

export interface ServerOptions {
  observer?: GuardObserver;
}

export interface RunningServer {
  runtime: Runtime;
  agi: AgiServerAddress;
  /** Stops accepting, lets sessions in flight finish, closes the database. Idempotent. */
  close(): Promise<void>;
}

/** `dialguard serve`: owns the listeners and their orderly shutdown. */
export async function startServer(config: Config, logger: Logger, options: ServerOptions = {}): Promise<RunningServer> {
  const runtime = await openRuntime(config);
  const observer = options.observer ?? NO_OBSERVER;
  const deps = { guard: runtime.guard, logger, observer };
  const fallback = createGuardErrorFallback(deps);
  const agi: AgiServer = createAgiServer({
    host: config.agiListen.host,
    port: config.agiListen.port,
    logger,
    handlers: { authorize: createAuthorizeHandler(deps), settle: createSettleHandler(deps) },
    answerDeadlineMs: config.answerDeadlineMs,
    // Beyond it a connection is dropped: Asterisk sees AGISTATUS=SUCCESS with nothing set and fails closed.
    maxConnections: config.agiMaxConnections,
    onUnknownPath: fallback,
    onHandlerError: fallback,
  });
  let agiAddress: AgiServerAddress;
  try {
    agiAddress = await agi.listen();
  } catch (err) {
    runtime.close();
    throw err;
  }

  let closing: Promise<void> | undefined;
  return {
    runtime,
    agi: agiAddress,
    close() {
      closing ??= (async () => {
        await agi.close();
        runtime.close();
        logger.info('dialguard stopped');
      })();
      return closing;
    },
  };
}
