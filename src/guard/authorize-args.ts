import type { DecisionRequest } from '../domain/decision.js';

/** What a transport knows of the calling channel, recorded in the audit as given. */
export interface CallerChannel {
  channel: string;
  uniqueid: string;
  context: string;
  callerid: string;
  calleridname: string;
}

/**
 * `authorize,EXT,NUMBER,SOURCE,ORIGIN` as the dialplan contract fixes it, for FastAGI and ARI
 * alike: the same arguments mean the same request whichever way they came.
 */
export function requestFromArgs(args: readonly string[], caller: CallerChannel, transport: DecisionRequest['transport'], at: Date): DecisionRequest {
  const [ext = '', number = '', source = '', origin = ''] = args;
  return {
    // A dialplan that passes no extension still names the caller.
    extension: ext.trim() || caller.callerid,
    dialled: number.trim(),
    source: source.trim(),
    origin: origin.trim().toLowerCase() || 'phone',
    at,
    transport,
    meta: { ...caller },
  };
}
