import type { Decision } from '../domain/decision.js';

/** The channel variables of the dialplan contract, in the order they are set. */
export type ChannelVariables = ReadonlyArray<readonly [name: string, value: string]>;

/**
 * What every transport sets on the channel for a decision. All seven are always set, empty
 * ones included, so that nothing from an earlier call on the same channel survives.
 * DIALGUARD_RESULT goes last: an answer cut off half-way leaves it empty, which fails closed.
 */
export function decisionVariables(decision: Decision, callId: string): ChannelVariables {
  return [
    ['DIALGUARD_REASON', decision.reason],
    ['DIALGUARD_MESSAGE', decision.message],
    // Always a whole positive number for an ALLOW: L() reads "" as unlimited and a negative as "answer, then cut".
    ['DIALGUARD_LIMIT_MS', String(decision.result === 'ALLOW' ? Math.max(1, Math.floor(decision.limitMs)) : 0)],
    ['DIALGUARD_CALL_ID', callId],
    ['DIALGUARD_E164', decision.e164 ?? ''],
    ['DIALGUARD_COUNTRY', decision.country ?? ''],
    ['DIALGUARD_RESULT', decision.result],
  ];
}

/** The answer when no decision could be made in time: a DENY the dialplan cannot dial with. */
export function guardErrorVariables(message = 'The call guard could not decide'): ChannelVariables {
  return [
    ['DIALGUARD_REASON', 'guard_error'],
    ['DIALGUARD_MESSAGE', message],
    ['DIALGUARD_LIMIT_MS', '0'],
    ['DIALGUARD_CALL_ID', ''],
    ['DIALGUARD_E164', ''],
    ['DIALGUARD_COUNTRY', ''],
    ['DIALGUARD_RESULT', 'DENY'],
  ];
}
