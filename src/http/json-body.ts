import type { FastifyBodyParser, FastifyInstance } from 'fastify';

/**
 * Fastify's JSON parser (prototype poisoning refused), except that an empty body is no body.
 * Many HTTP clients send `Content-Type: application/json` and nothing else on a POST that
 * needs no data (unlock, acknowledge, reset), which fastify's own parser refuses with
 * FST_ERR_CTP_EMPTY_JSON_BODY. A route whose schema needs a body still refuses it, naming it.
 */
export function jsonBodyParser(app: FastifyInstance): FastifyBodyParser<string> {
  const parse = app.getDefaultJsonParser('error', 'error');
  return (request, body, done) => {
    if (body === '') done(null, undefined);
    else parse.call(app, request, body, done);
  };
}
