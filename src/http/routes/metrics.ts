import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Metrics } from '../../metrics.js';
import { ERROR_RESPONSES } from '../errors.js';

/** Prometheus text; a scraper sends the auditor token (`authorization: { credentials: … }` in prometheus.yml). */
export const metricsRoutes: FastifyPluginAsyncTypebox<{ metrics: Metrics }> = async (app, { metrics }) => {
  app.get(
    '/metrics',
    {
      schema: {
        summary: 'Prometheus metrics: decisions by result and reason, decision latency, active reservations, settlements, errors',
        tags: ['metrics'],
        produces: ['text/plain'],
        response: { 200: { description: 'Prometheus text exposition format', content: { 'text/plain': { schema: Type.String() } } }, ...ERROR_RESPONSES },
      },
    },
    async (_request, reply) => {
      reply.type(metrics.registry.contentType);
      return metrics.registry.metrics();
    },
  );
};
