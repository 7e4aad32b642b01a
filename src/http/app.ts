import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyPluginAsyncTypebox, TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type RouteOptions } from 'fastify';
import { DialguardError } from '../errors.js';
import type { Guard } from '../guard/guard.js';
import type { SourcesView } from '../intrusion/intrusion.js';
import { checkJsonDepth } from '../json-depth.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { AlertStore } from '../store/roles/alerts.js';
import type { AuditStore } from '../store/roles/audit.js';
import type { CircuitBreakerStore } from '../store/roles/circuit-breaker.js';
import type { HealthStore } from '../store/roles/health.js';
import type { LockStore } from '../store/roles/locks.js';
import type { PolicyStore } from '../store/roles/policies.js';
import type { TokenStore } from '../store/roles/tokens.js';
import type { UsageStore } from '../store/roles/usage.js';
import { authenticate } from './authentication.js';
import { alertRoutes } from './routes/alerts.js';
import { checkRoutes } from './routes/checks.js';
import { errorHandler, notFoundHandler } from './errors.js';
import { decisionRoutes } from './routes/decisions.js';
import { eventRoutes } from './routes/events.js';
import { extensionRoutes } from './routes/extensions.js';
import { healthRoutes, type Readiness } from './routes/health.js';
import { jsonBodyParser } from './json-body.js';
import { listRoutes } from './routes/lists.js';
import { metricsRoutes } from './routes/metrics.js';
import { policyDefaultsRoutes } from './routes/policy-defaults.js';
import { simulateRoutes } from './routes/simulate.js';
import { sourceRoutes } from './routes/sources.js';
import { usageRoutes } from './routes/usage.js';
import { dashboardStatic } from './static.js';
import { typeboxValidatorCompiler } from './validation.js';

export type { Readiness };

/** The roles the admin API's plugins use between them; each plugin is handed its own. */
export type AdminStore = PolicyStore & LockStore & AuditStore & UsageStore & TokenStore & AlertStore & CircuitBreakerStore & HealthStore;

export interface AppDeps {
  guard: Guard;
  store: AdminStore;
  logger: Logger;
  metrics: Metrics;
  /** The source reputation tracker's view (src/intrusion); without it there are no /sources routes. */
  sources?: SourcesView;
  /** Asked by GET /readyz; the database is checked there. */
  readiness: () => Readiness;
  /** Largest request body in bytes; larger gets 413. Default 1 MiB. */
  bodyLimit?: number;
  /** Requests per token per window. Default 600 a minute. */
  rateLimit?: { max: number; timeWindowMs: number };
  /** Sees every route as it is registered (the tests use it to check that every route is protected). */
  onRoute?: (route: RouteOptions) => void;
}

export const DEFAULT_BODY_LIMIT = 1024 * 1024;
export const DEFAULT_RATE_LIMIT = { max: 600, timeWindowMs: 60_000 };
/** Time allowed to receive a whole request; a slow client cannot hold a connection open past it. */
const REQUEST_TIMEOUT_MS = 30_000;

/** The routes that need a token: the admin API under /api/v1, /metrics and the OpenAPI document and UI. */
const protectedScope: FastifyPluginAsyncTypebox<AppDeps> = async (app, deps) => {
  const { guard, store, metrics } = deps;
  app.addHook('onRequest', authenticate(store));
  const { max, timeWindowMs } = deps.rateLimit ?? DEFAULT_RATE_LIMIT;
  await app.register(rateLimit, {
    max,
    timeWindow: timeWindowMs,
    // After authentication, so the key is the token's identity and a stranger cannot spend someone's allowance.
    hook: 'preHandler',
    keyGenerator: (request) => `token:${request.principal?.id}`,
    errorResponseBuilder: (_request, context) => new DialguardError('DG_RATE_LIMITED', `too many requests for this token: retry in ${context.after}`),
  });

  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(metricsRoutes, { metrics });
  await app.register(
    async (api) => {
      // Each plugin gets the roles it uses, no more.
      await api.register(policyDefaultsRoutes, { guard, policies: store });
      await api.register(checkRoutes);
      await api.register(extensionRoutes, { guard, policies: store, locks: store, usage: store });
      await api.register(listRoutes, { guard, policies: store });
      await api.register(decisionRoutes, { audit: store });
      await api.register(eventRoutes, { audit: store, metrics });
      await api.register(usageRoutes, { guard, usage: store });
      await api.register(simulateRoutes, { guard });
      await api.register(alertRoutes, { guard, alerts: store, breaker: store, audit: store });
      if (deps.sources) await api.register(sourceRoutes, { sources: deps.sources });
    },
    { prefix: '/api/v1' },
  );
};

/**
 * The admin HTTP API, ready but not listening: the caller listens (`app.listen({ host, port })`)
 * and closes it (`app.close()`). Built from injected parts, so tests run it on a temporary
 * database and `serve` on the real one.
 */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const logger: FastifyBaseLogger = deps.logger.child({ component: 'http' });
  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: deps.bodyLimit ?? DEFAULT_BODY_LIMIT,
    requestTimeout: REQUEST_TIMEOUT_MS,
  }).withTypeProvider<TypeBoxTypeProvider>();

  if (deps.onRoute) app.addHook('onRoute', deps.onRoute);
  app.setValidatorCompiler(typeboxValidatorCompiler);
  app.setErrorHandler(errorHandler(deps.metrics));
  app.setNotFoundHandler(notFoundHandler);
  // Bodies are JSON (and CSV where a route says so): anything else is 415, not a string to validate.
  app.removeContentTypeParser(['text/plain', 'application/json']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, jsonBodyParser(app));
  // Before validation, which (like merging and error messages) recurses once per level of the body.
  app.addHook('preValidation', async (request) => checkJsonDepth(request.body, 'the request body'));
  app.decorateRequest('principal', null);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'dialguard admin API',
        description: 'Per-extension policy, locks, rates, the decision audit, usage and metrics. Every route but /healthz and /readyz needs `Authorization: Bearer TOKEN`; auditor tokens read, admin tokens also write.',
        version: '1',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(healthRoutes, { health: deps.store, readiness: deps.readiness });
  // The dashboard's files are public (they hold no data); everything they show comes from the protected API.
  await app.register(dashboardStatic);
  await app.register(protectedScope, deps);
  await app.ready();
  return app;
}
