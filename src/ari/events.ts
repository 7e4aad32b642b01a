/**
 * The few ARI events dialguard reads, as narrow types parsed from the JSON Asterisk sends
 * (shaped like the StasisStart of asterisk/ari-authorize-session.json). Anything else, or an
 * event missing a field the guard needs, parses to null and is ignored.
 */

/** What a StasisStart tells about its channel. */
export interface StasisChannelInfo {
  /** The channel's unique id (AMI Uniqueid): every channel operation names it. */
  id: string;
  /** PJSIP/1001-00000014 */
  name: string;
  state: string;
  callerNumber: string;
  callerName: string;
  context: string;
  exten: string;
}

/** A channel entered the app: `Stasis(app,args…)`. */
export interface StasisStartEvent {
  type: 'StasisStart';
  args: string[];
  channel: StasisChannelInfo;
}

/** The channel left the app (continued or hung up), or is hanging up: no operation on it will work. */
export interface ChannelLeftEvent {
  type: 'StasisEnd' | 'ChannelHangupRequest';
  channelId: string;
}

export type AriEvent = StasisStartEvent | ChannelLeftEvent;

/** The event types to subscribe to, in ari-client's event names. */
export const ARI_EVENT_TYPES = ['StasisStart', 'StasisEnd', 'ChannelHangupRequest'] as const;

export function parseAriEvent(raw: unknown): AriEvent | null {
  if (!isRecord(raw) || !isRecord(raw.channel)) return null;
  const channel = raw.channel;
  if (typeof channel.id !== 'string' || channel.id === '') return null;
  switch (raw.type) {
    case 'StasisStart': {
      if (!Array.isArray(raw.args)) return null;
      const caller = isRecord(channel.caller) ? channel.caller : {};
      const dialplan = isRecord(channel.dialplan) ? channel.dialplan : {};
      return {
        type: 'StasisStart',
        args: raw.args.map((a) => (typeof a === 'string' ? a : String(a))),
        channel: {
          id: channel.id,
          name: text(channel.name),
          state: text(channel.state),
          callerNumber: text(caller.number),
          callerName: text(caller.name),
          context: text(dialplan.context),
          exten: text(dialplan.exten),
        },
      };
    }
    case 'StasisEnd':
    case 'ChannelHangupRequest':
      return { type: raw.type, channelId: channel.id };
    default:
      return null;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}
