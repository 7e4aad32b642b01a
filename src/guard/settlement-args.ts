import type { SettlementRequest } from '../store/roles/decisions.js';

/**
 * Settlement as the dialplan reports it: `${ANSWEREDTIME}` is empty when the call was never
 * answered (BUSY, NOANSWER, CANCEL), which costs nothing.
 */
export function settlementFromArgs(callId: string, answeredTime: string, dialStatus: string, at: Date): SettlementRequest {
  const seconds = Number.parseFloat(answeredTime);
  return {
    callId: callId.trim(),
    answeredSeconds: Number.isFinite(seconds) && seconds > 0 ? Math.ceil(seconds) : 0,
    dialStatus: dialStatus.trim() || 'UNKNOWN',
    at,
  };
}
