import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ReasonCode } from '../../domain/decision.js';
import { CHECKS, REASON_CODES, REASON_TEXT } from '../../engine/checks/registry.js';
import { POLICY_FORM_FIELDS } from '../../policy/form.js';
import { ERROR_RESPONSES } from '../errors.js';

const ChecksSchema = Type.Object({
  checks: Type.Array(
    Type.Object({
      name: Type.String(),
      kind: Type.String({ description: 'override, gate, policy, price, fraud or brake: when the engine runs it' }),
      section: Type.Union([Type.String({ description: 'the policy section it reads' }), Type.Null()]),
      reasons: Type.Array(Type.Object({ code: Type.String(), message: Type.String({ description: 'the sentence of DIALGUARD_MESSAGE' }) })),
    }),
    { description: 'every check, in the order of the audit and of precedence' },
  ),
  reasonCodes: Type.Array(Type.String(), { description: 'every reason code a decision may give' }),
  form: Type.Array(
    Type.Object({
      path: Type.String({ description: 'JSON pointer into the policy' }),
      label: Type.String(),
      input: Type.Union([Type.Literal('list'), Type.Literal('number'), Type.Literal('text'), Type.Literal('choice')]),
      options: Type.Optional(Type.Array(Type.String())),
    }),
    { description: 'the fields of the policy form of the dashboard' },
  ),
});

/** The same for every request: built once from the registry. */
const view = {
  checks: CHECKS.map((c) => ({
    name: c.name,
    kind: c.kind,
    section: c.section?.key ?? null,
    reasons: Object.keys(c.reasons).map((code) => ({ code, message: REASON_TEXT.get(code as ReasonCode) ?? '' })),
  })),
  reasonCodes: [...REASON_CODES],
  form: [...POLICY_FORM_FIELDS],
};

export const checkRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/checks',
    {
      schema: {
        summary: 'The checks the engine runs, their reason codes and messages, and the policy form',
        tags: ['policy'],
        response: { 200: ChecksSchema, ...ERROR_RESPONSES },
      },
    },
    async () => view,
  );
};
