import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { createAuthorizeHandler, createGuardErrorFallback, createSettleHandler } from './agi/handlers.js';
import { createAgiServer, type AgiServerAddress } from './agi/server.js';
import { startAlertDelivery } from './alerts/delivery.js';
import { startAriApp, type AriApp } from './ari/app.js';
import { ensureAdminToken } from './auth/tokens.js';
import { createDecisionQueue } from './guard/decision-queue.js';
import { formatAddress, type Config, type ListenAddress } from './config/config.js';
import type { SecurityEventSink, SourceReputation } from './domain/security.js';
import { causeText, ConfigError } from './errors.js';
import { buildApp } from './http/app.js';
import { startSecurityFeed, type SecurityFeed } from './feed/security-feed.js';
import { createIntrusion, type Intrusion } from './intrusion/intrusion.js';
import { guardIntrusionPolicies } from './intrusion/policy.js';
import { createMetrics } from './metrics.js';
import { openRuntime, type Runtime } from './runtime.js';

export interface RunningServer {
  runtime: Runtime;
  /** The source reputation tracker and the takeover lock: the security-event feeds deliver to `intrusion.sink`. */
  intrusion: Intrusion;
  agi: AgiServerAddress;
  /** The Stasis application, when ARI is configured. */
  ari: AriApp | null;
  http: ListenAddress;
  /** Asterisk's security events (AMI, the security log), when either is configured. */
  securityFeed: SecurityFeed | null;
  /** The admin token generated on this start (first start, none configured); shown once, stored hashed. */
  generatedAdminToken: string | null;
  /** Stops accepting, lets sessions and requests in flight finish, closes the database. Idempotent. */
  close(): Promise<void>;
}

export interface ServerOptions {
  /** Failed authentications per source, fed by the security events; default: no source has any. */
  reputation?: SourceReputation;
  /** Where live security events go; default: the intrusion tracker (reputation and takeover lock). */
  securitySink?: SecurityEventSink;
}

/** `dialguard serve`: owns the listeners and their orderly shutdown. */
export async function startServer(config: Config, logger: Logger, options: ServerOptions = {}): Promise<RunningServer> {
  const runtime = await openRuntime(config, { server: true, logger, reputation: options.reputation });
  const cleanups: Array<() => Promise<void> | void> = [() => runtime.close()];
  const cleanup = async (): Promise<void> => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  };
  try {
    const metrics = createMetrics(runtime.store);
    // Alerts are raised in the decisions' transactions; logging and webhooks happen here, off the decision path.
    const alerts = startAlertDelivery({ ...config.alerts, store: runtime.store, logger });
    cleanups.push(() => alerts.stop());
    const intrusion = createIntrusion({
      tracker: runtime.reputation,
      store: runtime.store,
      policy: guardIntrusionPolicies(runtime.guard),
      logger,
      onTakeoverLock: () => metrics.observeTakeoverLock(),
    });
    metrics.watchSources(async () => (await intrusion.sources.suspicious()).length);
    // Takeovers being handled finish before the database closes.
    cleanups.push(() => intrusion.settled());
    const deps = { guard: runtime.guard, decisions: createDecisionQueue(runtime.guard), logger, observer: metrics };
    const fallback = createGuardErrorFallback(deps);
    const agi = createAgiServer({
      host: config.agiListen.host,
      port: config.agiListen.port,
      logger,
      handlers: { authorize: createAuthorizeHandler(deps), settle: createSettleHandler(deps) },
      answerDeadlineMs: config.answerDeadlineMs,
      // Beyond it a connection is dropped: Asterisk sees AGISTATUS=SUCCESS with nothing set and fails closed.
      maxConnections: config.agiMaxConnections,
      backlog: config.agiBacklog,
      ...(config.agiAllowFrom ? { allowFrom: config.agiAllowFrom } : {}),
      onUnknownPath: fallback,
      onHandlerError: fallback,
      arrivals: deps.decisions,
    });
    const agiAddress = await listening('DIALGUARD_AGI_LISTEN', config.agiListen, () => agi.listen());
    let agiListening = true;
    cleanups.push(async () => {
      agiListening = false;
      await agi.close();
    });

    // Connects in the background: Asterisk may come up after the guard; readyz says when it is connected.
    const ari = config.ari ? startAriApp({ ...deps, ari: config.ari, answerDeadlineMs: config.answerDeadlineMs }) : null;
    if (ari) {
      metrics.watchAriConnection(() => ari.connected);
      cleanups.push(() => ari.close());
    }

    const generatedAdminToken = await ensureAdminToken(runtime.store, config.adminToken);
    const app: FastifyInstance = await buildApp({
      guard: runtime.guard,
      store: runtime.store,
      logger,
      metrics,
      sources: intrusion.sources,
      readiness: () => ({ agi: agiListening, ...(ari ? { ari: ari.connected } : {}) }),
    });
    cleanups.push(() => app.close());
    await listening('DIALGUARD_HTTP_LISTEN', config.httpListen, () => app.listen({ host: config.httpListen.host, port: config.httpListen.port }));
    const bound = app.server.address();
    const http = bound && typeof bound === 'object' ? { host: bound.address, port: bound.port } : config.httpListen;

    // After the listeners: calls are served whether or not Asterisk's AMI is reachable yet.
    const securityFeed =
      config.ami || config.securityLog
        ? startSecurityFeed({ ami: config.ami, securityLog: config.securityLog, timezone: config.timezone, sink: options.securitySink ?? intrusion.sink, logger, metrics })
        : null;
    if (securityFeed) cleanups.push(() => securityFeed.close());

    let closing: Promise<void> | undefined;
    return {
      runtime,
      intrusion,
      agi: agiAddress,
      ari,
      http,
      securityFeed,
      generatedAdminToken,
      close() {
        closing ??= cleanup().then(() => logger.info('dialguard stopped'));
        return closing;
      },
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** A listener that cannot bind names its setting: "DIALGUARD_AGI_LISTEN: cannot listen on 127.0.0.1:4573: EADDRINUSE: …". */
async function listening<T>(setting: string, address: ListenAddress, listen: () => Promise<T>): Promise<T> {
  try {
    return await listen();
  } catch (err) {
    throw new ConfigError(`${setting}: cannot listen on ${formatAddress(address.host, address.port)}: ${causeText(err)}`);
  }
}
