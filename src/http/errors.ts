import { Type } from '@sinclair/typebox';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { DialguardError } from '../errors.js';
import type { Metrics } from '../metrics.js';

/**
 * The one error shape of the admin API, `{ error, message, details }`, with stable codes:
 * clients match on `error`, never on `message`. Bodies never carry a stack trace or SQL;
 * the log has the whole story under the request id.
 */
export const ErrorSchema = Type.Object(
  {
    error: Type.String({ description: 'stable code: DG_VALIDATION, DG_JSON_TOO_DEEP, DG_UNAUTHORIZED, DG_FORBIDDEN, DG_NOT_FOUND, DG_STALE_VERSION…' }),
    message: Type.String(),
    details: Type.Unknown({ description: 'for DG_VALIDATION, the list of { field, message }; otherwise null or a small object' }),
  },
  { description: 'an error' },
);

/** Error responses every route may give, for the OpenAPI document and the serializer. */
export const ERROR_RESPONSES = { '4xx': ErrorSchema, '5xx': ErrorSchema } as const;

const STATUS: Readonly<Record<string, number>> = {
  DG_VALIDATION: 400,
  DG_BAD_REQUEST: 400,
  DG_JSON_TOO_DEEP: 400,
  DG_VALUE_OUT_OF_RANGE: 400,
  DG_UNAUTHORIZED: 401,
  DG_FORBIDDEN: 403,
  DG_NOT_FOUND: 404,
  DG_CONFLICT: 409,
  DG_STALE_VERSION: 412,
  DG_PAYLOAD_TOO_LARGE: 413,
  DG_UNSUPPORTED_MEDIA_TYPE: 415,
  DG_RATE_LIMITED: 429,
  DG_STORE: 503,
  DG_DEADLINE: 503,
};

/** Fastify's own client errors (bad JSON, body too large…), by status. */
const CODE_OF_STATUS: Readonly<Record<number, string>> = {
  404: 'DG_NOT_FOUND',
  413: 'DG_PAYLOAD_TOO_LARGE',
  415: 'DG_UNSUPPORTED_MEDIA_TYPE',
  429: 'DG_RATE_LIMITED',
};

export const notFound = (message: string): DialguardError => new DialguardError('DG_NOT_FOUND', message);

interface ErrorBody {
  error: string;
  message: string;
  details: unknown;
}

function describe(error: FastifyError | DialguardError, requestId: string): { status: number; body: ErrorBody } {
  if (error instanceof DialguardError) {
    const status = STATUS[error.code] ?? 500;
    if (status === 503) {
      return { status, body: { error: error.code, message: 'the database is busy or unavailable: try again shortly', details: null } };
    }
    if (status < 500) return { status, body: { error: error.code, message: error.message, details: error.details ?? null } };
  } else if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    const code = CODE_OF_STATUS[error.statusCode] ?? 'DG_BAD_REQUEST';
    return { status: error.statusCode, body: { error: code, message: error.message, details: null } };
  }
  return { status: 500, body: { error: 'DG_INTERNAL', message: `internal error: see the server log for request ${requestId}`, details: null } };
}

export function errorHandler(metrics: Metrics) {
  return (error: FastifyError | DialguardError, request: FastifyRequest, reply: FastifyReply): ErrorBody => {
    const { status, body } = describe(error, request.id);
    if (status >= 500) {
      metrics.observeError(body.error);
      request.log.error({ err: error }, 'request failed');
    } else {
      request.log.info({ error: body.error, message: body.message }, 'request refused');
    }
    if (status === 401) reply.header('www-authenticate', 'Bearer realm="dialguard"');
    reply.code(status);
    return body;
  };
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): ErrorBody {
  reply.code(404);
  return { error: 'DG_NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}`, details: null };
}
