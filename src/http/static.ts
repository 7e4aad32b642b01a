import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';

/**
 * Where the built dashboard is: beside this module once built (dist/http → dist/web), or
 * dist/web when dialguard runs from its sources (src/http, as the tests do) after `npm run build`.
 */
export function dashboardRoot(): string {
  const candidates = ['../web/', '../../dist/web/'].map((relative) => fileURLToPath(new URL(relative, import.meta.url)));
  return candidates.find((dir) => existsSync(`${dir}app.js`)) ?? (candidates[1] as string);
}

/**
 * The dashboard's files, public on purpose: they hold no data. The page asks for a token and
 * sends it with every API call, so what it shows is protected by the API itself.
 */
export const dashboardStatic: FastifyPluginAsync<{ root?: string }> = async (app, options) => {
  await app.register(fastifyStatic, {
    root: options.root ?? dashboardRoot(),
    prefix: '/',
    index: ['index.html'],
    // Maps point at the TypeScript sources, which are not served.
    allowedPath: (path) => !path.endsWith('.map'),
    cacheControl: true,
    maxAge: 0,
    setHeaders: (res) => {
      res.setHeader('x-content-type-options', 'nosniff');
    },
  });
};
