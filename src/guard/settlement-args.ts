import type { SettlementRequest } from '../store/roles/decisions.js';

/** A reported value is kept this long in the settlement row and the log; Asterisk's are a few digits. */
const MAX_REPORTED_LENGTH = 64;

export interface ReportedSettlement {
  request: SettlementRequest;
  /** Why a non-empty ANSWEREDTIME was settled as 0 s ("not a number", "negative"); null when it was read. */
  problem: string | null;
}

/**
 * Settlement as the dialplan reports it: `${ANSWEREDTIME}` is empty when the call was never
 * answered (BUSY, NOANSWER, CANCEL), which costs nothing. A value no Asterisk sends (`abc`, `-5`)
 * also settles as 0 s, with the problem named; one larger than the granted limit is the store's
 * to clamp.
 */
export function settlementFromArgs(callId: string, answeredTime: string, dialStatus: string, at: Date): ReportedSettlement {
  const reported = answeredTime.trim().slice(0, MAX_REPORTED_LENGTH);
  const seconds = Number.parseFloat(answeredTime);
  const problem = reported === '' ? null : Number.isNaN(seconds) ? 'not a number' : seconds < 0 ? 'negative' : null;
  return {
    request: {
      callId: callId.trim(),
      answeredSeconds: seconds > 0 ? Math.ceil(seconds) : 0,
      dialStatus: dialStatus.trim() || 'UNKNOWN',
      at,
      reported,
    },
    problem,
  };
}
