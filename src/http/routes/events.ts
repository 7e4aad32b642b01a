import type { ServerResponse } from 'node:http';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Metrics } from '../../metrics.js';
import type { AuditStore } from '../../store/roles/audit.js';
import { decisionView } from '../decision-views.js';
import { ERROR_RESPONSES } from '../errors.js';

/** A comment line now and then keeps proxies and browsers from closing a quiet stream. */
const KEEPALIVE_MS = 15_000;

/**
 * Server-sent events of the decisions this process makes, as they are stored: the live dashboard.
 * Decisions made by other `dialguard serve` processes on the same database do not appear here;
 * the audit (GET /decisions) has them all. The token travels in the Authorization header like
 * everywhere else: the page reads the stream with fetch(), not EventSource, which cannot send one.
 */
export const eventRoutes: FastifyPluginAsyncTypebox<{ audit: Pick<AuditStore, 'getDecision'>; metrics: Metrics }> = async (app, { audit, metrics }) => {
  const open = new Set<ServerResponse>();
  // app.close() waits for open connections: end the streams first, or shutdown would wait for the browsers.
  app.addHook('preClose', async () => {
    for (const raw of open) raw.end();
  });

  app.get(
    '/decisions/stream',
    {
      exposeHeadRoute: false,
      schema: {
        summary: 'Decisions of this process as they happen (text/event-stream)',
        description: 'Each event is `decision` with the same JSON as an item of GET /decisions. Only this process’s decisions: several serve processes on one database each stream their own.',
        tags: ['decisions'],
        produces: ['text/event-stream'],
        response: { 200: { description: 'an endless event stream', content: { 'text/event-stream': { schema: { type: 'string' } } } }, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      raw.write(': dialguard decisions\n\n');
      // One read after another, so that events keep the order of the decisions.
      let sending: Promise<void> = Promise.resolve();
      const send = (callId: string): void => {
        sending = sending.then(async () => {
          try {
            const record = await audit.getDecision(callId);
            if (record && !raw.writableEnded) raw.write(`event: decision\nid: ${callId}\ndata: ${JSON.stringify(decisionView(record))}\n\n`);
          } catch (err) {
            // Never let a watcher's trouble reach the decision path that called us.
            request.log.warn({ err, callId }, 'could not stream a decision');
          }
        });
      };
      const unsubscribe = metrics.onDecision(send);
      const keepalive = setInterval(() => raw.write(': keepalive\n\n'), KEEPALIVE_MS);
      open.add(raw);
      raw.on('close', () => {
        unsubscribe();
        clearInterval(keepalive);
        open.delete(raw);
      });
    },
  );
};
