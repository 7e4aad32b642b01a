import type { CheckOutcome, DecisionRequest, SourceInfo } from '../../domain/decision.js';
import type { ExtensionState } from '../types.js';
import type { NormalizedNumber } from '../../domain/number.js';
import type { UsageSnapshot } from '../../domain/usage.js';

/** Everything a check may look at; computed once per request by the engine. */
export interface CheckContext {
  request: DecisionRequest;
  number: NormalizedNumber;
  source: SourceInfo;
  extension: ExtensionState;
  usage: UsageSnapshot;
  homeCountry: string;
}

/** A check compiled from its part of the policy: a cheap, pure function per request. */
export type Check = (ctx: CheckContext) => CheckOutcome;

export const pass = (name: CheckOutcome['name'], detail: string): CheckOutcome => ({ name, outcome: 'pass', detail });
export const skip = (name: CheckOutcome['name'], detail: string): CheckOutcome => ({ name, outcome: 'skip', detail });
export const fail = (name: CheckOutcome['name'], reason: NonNullable<CheckOutcome['reason']>, detail: string): CheckOutcome => ({
  name,
  outcome: 'fail',
  reason,
  detail,
});
