import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
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

const ReadySchema = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('not ready')]),
  checks: Type.Object({
    database: Type.Boolean({ description: 'a write transaction can be started' }),
    agi: Type.Boolean({ description: 'the FastAGI server is listening' }),
    ari: Type.Optional(Type.Boolean({ description: 'the ARI app is connected (only when ARI is configured)' })),
  }),
});

/** The probes: the only routes that need no token, and that say nothing a stranger could use. */
export const healthRoutes: FastifyPluginAsyncTypebox<HealthOptions> = async (app, { health, readiness }) => {
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
        summary: 'Readiness: the database is writable and FastAGI is listening',
        tags: ['health'],
        security: [],
        response: { 200: ReadySchema, 503: ReadySchema },
      },
    },
    async (request, reply) => {
      let database = true;
      try {
        await health.checkWritable();
      } catch (error) {
        request.log.warn({ err: error }, 'readiness: database not writable');
        database = false;
      }
      const listeners = readiness();
      const checks = { database, ...listeners };
      const ready = database && listeners.agi && listeners.ari !== false;
      reply.code(ready ? 200 : 503);
      return { status: ready ? ('ready' as const) : ('not ready' as const), checks };
    },
  );
};
