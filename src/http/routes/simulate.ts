import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ValidationError } from '../../errors.js';
import type { Guard } from '../../guard/guard.js';
import { ExtensionNameSchema } from '../../policy/document.js';
import { SimulatedDecisionSchema, simulatedDecisionView } from '../decision-views.js';
import { ERROR_RESPONSES } from '../errors.js';

const SimulateBody = Type.Object(
  {
    ext: ExtensionNameSchema,
    number: Type.String({ minLength: 1, maxLength: 64, description: 'the digits as dialled, access prefix included' }),
    source: Type.Optional(Type.String({ maxLength: 128, description: 'caller source address (203.0.113.9:5060); empty if not given' })),
    origin: Type.Optional(Type.String({ minLength: 1, maxLength: 32, description: 'phone (default), voicemail, …' })),
    at: Type.Optional(Type.String({ maxLength: 64, description: 'ISO 8601 time of the call; now if not given' })),
  },
  { additionalProperties: false },
);

/** `dialguard check` over HTTP: the decision a call would get now, with nothing reserved or recorded. */
export const simulateRoutes: FastifyPluginAsyncTypebox<{ guard: Guard }> = async (app, { guard }) => {
  app.post(
    '/simulate',
    {
      // A dry run changes nothing: auditors may run it.
      config: { access: 'read' },
      schema: {
        summary: 'Dry run: the decision a call would get, without reserving or auditing',
        tags: ['simulate'],
        body: SimulateBody,
        response: { 200: SimulatedDecisionSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const { ext, number, source = '', origin = 'phone' } = request.body;
      const at = request.body.at === undefined ? new Date() : new Date(request.body.at);
      if (Number.isNaN(at.getTime())) throw new ValidationError([{ field: '/at', message: `"${request.body.at}" is not an ISO 8601 time` }], 'request body');
      return simulatedDecisionView(await guard.check({ extension: ext, dialled: number, source, origin, at, transport: 'http' }));
    },
  );
};
