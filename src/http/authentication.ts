import type { FastifyRequest } from 'fastify';
import { bearerToken, verifyToken, type Principal } from '../auth/tokens.js';
import { DialguardError } from '../errors.js';
import type { TokenStore } from '../store/roles/tokens.js';

/** `read` routes are open to auditors; `write` routes need an admin token. */
export type Access = 'read' | 'write';

declare module 'fastify' {
  interface FastifyRequest {
    /** The token's owner; set on every protected route before its handler runs. */
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    /** Defaults to `read` for GET and HEAD, `write` for every other method. */
    access?: Access;
  }
}

const READ_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD']);

/**
 * The onRequest hook of the protected scope: runs before the body is even parsed. The token
 * table is read on every request (it is a handful of rows), so a token revoked from the CLI
 * stops working at once, in every guard process. Refusals are logged with the token's name at
 * most, never the token.
 */
export function authenticate(tokens: Pick<TokenStore, 'listTokens'>) {
  return async function authenticateRequest(request: FastifyRequest): Promise<void> {
    const token = bearerToken(request.headers.authorization);
    const principal = token === null ? null : verifyToken(await tokens.listTokens(), token);
    const where = { method: request.method, url: request.url, ip: request.ip };
    if (principal === null) {
      const why = token === null ? 'no bearer token' : 'unknown or revoked token';
      request.log.warn({ ...where, refused: why }, 'refused: not authenticated');
      throw new DialguardError('DG_UNAUTHORIZED', token === null ? 'send Authorization: Bearer TOKEN' : 'unknown or revoked token');
    }
    const access = request.routeOptions.config.access ?? (READ_METHODS.has(request.method) ? 'read' : 'write');
    if (access === 'write' && principal.role !== 'admin') {
      request.log.warn({ ...where, tokenName: principal.name, role: principal.role, refused: 'read-only role' }, 'refused: not allowed');
      throw new DialguardError('DG_FORBIDDEN', `token "${principal.name}" is an ${principal.role} token: it can read, not change`);
    }
    request.principal = principal;
  };
}

/** Who changes something: the token's name, recorded in the policy history. */
export function actor(request: FastifyRequest): string {
  if (request.principal === null) throw new DialguardError('DG_UNAUTHORIZED', 'not authenticated');
  return request.principal.name;
}
