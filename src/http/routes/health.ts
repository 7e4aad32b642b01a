import { performance } from 'node:perf_hooks';
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyBaseLogger } from 'fastify';
import { causeText } from '../../errors.js';
import type { Store } from '../../store/store.js';

/** What `serve` knows about its listeners; the database is checked here. */
export interface Readiness {
  agi: boolean;
  /** Absent when ARI is not configured. */
  ari?: boolean;
}

export interface HealthOptions {
  store: Store;
  readiness: () => Readiness;
}

/** The write probe runs at most this often, however often readyz is asked: no scraper can load the database. */
export const PROBE_INTERVAL_MS = 1000;

const ReadySchema = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('not ready')]),
  checks: Type.Object({
    database: Type.Boolean({ description: 'a one-row write committed (at most one probe a second; a full disk or a read-only file fails it)' }),
    agi: Type.Boolean({ description: 'the FastAGI server is listening' }),
    ari: Type.Optional(Type.Boolean({ description: 'the ARI app is connected (only when ARI is configured)' })),
  }),
  reasons: Type.Optional(Type.Array(Type.String(), { description: 'when not ready: what is not, one sentence per failed check' })),
});

/** The probes: the only routes that need no token, and that say nothing a stranger could use. */
export const healthRoutes: FastifyPluginAsyncTypebox<HealthOptions> = async (app, { store, readiness }) => {
  let last: { at: number; problem: string | null } | null = null;
  /** Why the database cannot be written, or null; from the last probe if it is less than a second old. */
  const databaseProblem = (log: FastifyBaseLogger): string | null => {
    const now = performance.now();
    if (last && now - last.at < PROBE_INTERVAL_MS) return last.problem;
    let problem: string | null = null;
    try {
      store.checkWritable();
    } catch (error) {
      log.warn({ err: error }, 'readiness: database not writable');
      // SQLite's code and sentence ("SQLITE_FULL: database or disk is full"): no path, no SQL.
      problem = `the database cannot be written: ${causeText(error)}`;
    }
    last = { at: now, problem };
    return problem;
  };

  app.get(
    '/healthz',
    {
      schema: {
        summary: 'Liveness: the process answers',
        tags: ['health'],
        security: [],
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        summary: 'Readiness: the database takes a write and FastAGI is listening',
        tags: ['health'],
        security: [],
        response: { 200: ReadySchema, 503: ReadySchema },
      },
    },
    async (request, reply) => {
      const problem = databaseProblem(request.log);
      const listeners = readiness();
      const reasons = [
        ...(problem ? [problem] : []),
        ...(listeners.agi ? [] : ['FastAGI is not listening']),
        ...(listeners.ari === false ? ['the ARI app is not connected to Asterisk'] : []),
      ];
      const checks = { database: problem === null, ...listeners };
      reply.code(reasons.length === 0 ? 200 : 503);
      return reasons.length === 0 ? { status: 'ready' as const, checks } : { status: 'not ready' as const, checks, reasons };
    },
  );
};
