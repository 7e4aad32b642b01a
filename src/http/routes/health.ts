import { performance } from 'node:perf_hooks';
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyBaseLogger } from 'fastify';
import { causeText } from '../../errors.js';
import type { HealthStore } from '../../store/roles/health.js';

/** What `serve` knows about its listeners; the database is checked here. */
export interface Readiness {
  agi: boolean;
  /** Absent when ARI is not configured. */
  ari?: boolean;
}

export interface HealthOptions {
  health: HealthStore;
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
export const healthRoutes: FastifyPluginAsyncTypebox<HealthOptions> = async (app, { health, readiness }) => {
  // The probe in flight is shared too: fifty requests at once make one write, not fifty.
  let last: { at: number; problem: Promise<string | null> } | null = null;
  const probe = async (log: FastifyBaseLogger): Promise<string | null> => {
    try {
      await health.checkWritable();
      return null;
    } catch (error) {
      log.warn({ err: error }, 'readiness: database not writable');
      // The database's code and sentence ("SQLITE_FULL: database or disk is full"): no path, no SQL.
      return `the database cannot be written: ${causeText(error)}`;
    }
  };
  /** Why the database cannot be written, or null; from the last probe if it started less than a second ago. */
  const databaseProblem = (log: FastifyBaseLogger): Promise<string | null> => {
    const now = performance.now();
    if (!last || now - last.at >= PROBE_INTERVAL_MS) last = { at: now, problem: probe(log) };
    return last.problem;
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
      const problem = await databaseProblem(request.log);
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
