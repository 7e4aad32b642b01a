import { Type, type Static } from '@sinclair/typebox';
import type { NumberType } from '../../domain/number.js';
import { defineCheck, fail, pass, skip, type Check } from './check.js';

declare module '../../domain/decision.js' {
  interface CheckNames {
    voicemail: true;
  }
  interface ReasonCodes {
    voicemail_callout_denied: true;
  }
}

export const VoicemailCalloutSchema = Type.Union([Type.Literal('deny'), Type.Literal('domestic'), Type.Literal('allow')]);

/** Types a voicemail call-back never needs at home, and the ones that pay the attacker. */
const DOMESTIC_DENIED_TYPES: ReadonlySet<NumberType> = new Set<NumberType>(['PREMIUM_RATE', 'SHARED_COST']);

/**
 * Dial-out and call-back from voicemail (ORIGIN `voicemail`): the door a guessed mailbox PIN
 * opens. `deny` refuses every such call, `domestic` allows home-country numbers that are not
 * premium or shared-cost, `allow` leaves the decision to the other checks.
 */
export function compileVoicemail(mode: Static<typeof VoicemailCalloutSchema>): Check {
  return (ctx) => {
    if (ctx.request.origin.toLowerCase() !== 'voicemail') return skip('voicemail', 'not a voicemail call-out');
    if (mode === 'allow') return pass('voicemail', 'voicemail call-out is allowed');
    if (mode === 'deny') return fail('voicemail', 'voicemail_callout_denied', 'voicemail call-out is denied');
    const { country, type } = ctx.number;
    if (country !== ctx.homeCountry) {
      return fail('voicemail', 'voicemail_callout_denied', `voicemail call-out is limited to ${ctx.homeCountry}, not ${country ?? 'an unknown country'}`);
    }
    if (type !== null && DOMESTIC_DENIED_TYPES.has(type)) {
      return fail('voicemail', 'voicemail_callout_denied', `voicemail call-out to a ${type} number is denied`);
    }
    return pass('voicemail', `voicemail call-out within ${ctx.homeCountry} is allowed`);
  };
}

export const voicemail = defineCheck({
  name: 'voicemail',
  kind: 'policy',
  reasons: { voicemail_callout_denied: 'voicemail may not place this call' },
  section: { key: 'voicemailCallout', schema: VoicemailCalloutSchema, defaults: () => 'deny' as const },
  form: [{ path: '/voicemailCallout', label: 'Voicemail call-out' }],
  compile: ({ section }) => compileVoicemail(section),
});
