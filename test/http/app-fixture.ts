import type { FastifyInstance, RouteOptions } from 'fastify';
import { createToken } from '../../src/auth/tokens.js';
import { openGeoIp } from '../../src/geo/geoip.js';
import { buildApp, type AppDeps } from '../../src/http/app.js';
import { createIntrusion, type Intrusion } from '../../src/intrusion/intrusion.js';
import { guardIntrusionPolicies } from '../../src/intrusion/policy.js';
import { ReputationTracker } from '../../src/intrusion/reputation.js';
import { createMetrics, type Metrics } from '../../src/metrics.js';
import type { PolicyDocument } from '../../src/policy/document.js';
import { memoryLogger, type LogRecord } from '../agi/memory-logger.js';
import { tempGuard, type TempGuard } from '../support/temp-db.js';

export interface TestApp extends TempGuard {
  app: FastifyInstance;
  metrics: Metrics;
  /** The source reputation tracker behind /api/v1/sources: feed it through `intrusion.sink`. */
  intrusion: Intrusion;
  logs: LogRecord[];
  routes: RouteOptions[];
  admin: string;
  auditor: string;
  /** Authorization headers for a token. */
  as(token: string): { authorization: string };
  readiness: { agi: boolean; ari?: boolean };
  closeAll(): Promise<void>;
}

/** The admin API on a fresh temporary database (US site, New York time), with one admin and one auditor token. */
export async function testApp(doc?: PolicyDocument, options: Partial<Pick<AppDeps, 'bodyLimit' | 'rateLimit'>> = {}): Promise<TestApp> {
  const t = await tempGuard(doc);
  const { logger, records } = memoryLogger();
  const metrics = createMetrics(t.store);
  const geoip = openGeoIp();
  const intrusion = createIntrusion({
    tracker: new ReputationTracker({ country: (address) => geoip.country(address) }),
    store: t.store,
    policy: guardIntrusionPolicies(t.guard),
    logger,
    onTakeoverLock: () => metrics.observeTakeoverLock(),
  });
  metrics.watchSources(async () => (await intrusion.sources.suspicious()).length);
  const routes: RouteOptions[] = [];
  const readiness: { agi: boolean; ari?: boolean } = { agi: true };
  const admin = (await createToken(t.store, { role: 'admin', name: 'alice', actor: 'test' })).token;
  const auditor = (await createToken(t.store, { role: 'auditor', name: 'bob', actor: 'test' })).token;
  const app = await buildApp({
    guard: t.guard,
    store: t.store,
    logger,
    metrics,
    sources: intrusion.sources,
    readiness: () => readiness,
    onRoute: (route) => routes.push(route),
    ...options,
  });
  return {
    ...t,
    app,
    metrics,
    intrusion,
    logs: records,
    routes,
    admin,
    auditor,
    readiness,
    as: (token) => ({ authorization: `Bearer ${token}` }),
    async closeAll() {
      await intrusion.settled();
      await app.close();
      await t.close();
    },
  };
}
