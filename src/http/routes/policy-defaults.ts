import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Guard } from '../../guard/guard.js';
import { PolicyOverridesSchema, type PolicyOverrides } from '../../policy/schema.js';
import type { PolicyStore } from '../../store/roles/policies.js';
import { actor } from '../authentication.js';
import { ERROR_RESPONSES } from '../errors.js';
import { checkDefaultsPolicy } from '../policy-checks.js';
import { checkIfMatch, etag } from '../preconditions.js';
import { EffectivePolicySchema, IfMatchHeaders } from '../schemas.js';

const DefaultsSchema = Type.Object({
  version: Type.Integer({ description: 'policy version of the last change of the defaults (also the ETag); 0 if never changed' }),
  overrides: PolicyOverridesSchema,
  effective: EffectivePolicySchema,
  builtin: EffectivePolicySchema,
});

export const policyDefaultsRoutes: FastifyPluginAsyncTypebox<{ guard: Guard; policies: Pick<PolicyStore, 'loadPolicySet' | 'readSetting' | 'updateSetting'> }> = async (
  app,
  { guard, policies },
) => {
  const view = async (overrides: PolicyOverrides | null, version: number) => ({
    version,
    overrides: overrides ?? {},
    effective: guard.resolvePolicySet(await policies.loadPolicySet()).defaults,
    builtin: guard.builtinDefaults,
  });

  app.get(
    '/policy/defaults',
    {
      schema: {
        summary: 'The default policy every extension inherits: what the site set, the result, and the built-in defaults under it',
        tags: ['policy'],
        response: { 200: DefaultsSchema, ...ERROR_RESPONSES },
      },
    },
    async (_request, reply) => {
      const { value, version } = await policies.readSetting('defaults');
      reply.header('etag', etag(version));
      return view(value, version);
    },
  );

  app.put(
    '/policy/defaults',
    {
      schema: {
        summary: 'Replace the site defaults (over the built-in ones; a complete policy is one case)',
        description:
          'Checked merged over the built-in defaults, and under every extension that inherits them: a problem anywhere refuses the whole write (400, fields named), and nothing is stored.',
        tags: ['policy'],
        headers: IfMatchHeaders,
        body: PolicyOverridesSchema,
        response: { 200: DefaultsSchema, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const defaults = request.body as PolicyOverrides;
      const { version } = await policies.updateSetting('defaults', actor(request), (current, policy) => {
        checkIfMatch(request.headers['if-match'], current.version);
        checkDefaultsPolicy(guard, policy, defaults);
        return defaults;
      });
      reply.header('etag', etag(version));
      return view(defaults, version);
    },
  );
};
