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
 * The page keeps the admin token in sessionStorage, so anything that runs in it could read the
 * token: only the dashboard's own files may run or style it (no inline script, style, handler or
 * eval; the page uses none), it talks to its own origin only, it cannot be framed (clickjacking
 * the lock buttons), a form cannot post elsewhere (every form is handled by script), and no URL
 * leaks in a Referer. `default-src 'self'` already covers script, style, connect and img.
 */
export const DASHBOARD_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  // For browsers that predate frame-ancestors.
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
};

/**
 * The dashboard's files, public on purpose: they hold no data. The page asks for a token and
 * sends it with every API call, so what it shows is protected by the API itself.
 */
export const dashboardStatic: FastifyPluginAsync<{ root?: string }> = async (app, options) => {
  // On the request, not in @fastify/static's setHeaders: that one misses 304s and the 404 of a missing file.
  app.addHook('onRequest', async (_request, reply) => {
    reply.headers(DASHBOARD_HEADERS);
  });
  await app.register(fastifyStatic, {
    root: options.root ?? dashboardRoot(),
    prefix: '/',
    index: ['index.html'],
    // Maps point at the TypeScript sources, which are not served.
    allowedPath: (path) => !path.endsWith('.map'),
    cacheControl: true,
    maxAge: 0,
  });
};
