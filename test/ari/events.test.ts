import { describe, expect, it } from 'vitest';
import { parseAriEvent } from '../../src/ari/events.js';
import { loadText } from '../support/captures.js';

/** The events dialguard reads, parsed from what Asterisk 22 sent (shared/asterisk/ari-*.json). */
function capturedEvents(file: string): unknown[] {
  const capture = JSON.parse(loadText(file)) as { websocket?: Array<{ frames: Array<{ data?: string }> }>; websocket_frames?: Array<{ data?: string }> };
  const frames = [...(capture.websocket ?? []).flatMap((s) => s.frames), ...(capture.websocket_frames ?? [])];
  return frames.flatMap((f) => (f.data ? [JSON.parse(f.data) as unknown] : []));
}

describe('parseAriEvent', () => {
  it('reads the StasisStart of a real authorize call: arguments and channel', () => {
    const [start] = capturedEvents('ari-authorize-session.json');
    expect(parseAriEvent(start)).toEqual({
      type: 'StasisStart',
      args: ['authorize', '1001', '0044207946000', '127.0.0.2:5060', 'phone'],
      channel: {
        id: '1795265343.26',
        name: 'PJSIP/1001-00000014',
        state: 'Ring',
        callerNumber: '1001',
        callerName: 'Lab 1001',
        context: 'dg-ari-authorize',
        exten: '0044207946000',
      },
    });
  });

  it('reads the settle StasisStart of a hangup handler and the StasisEnd that comes with it', () => {
    const events = capturedEvents('ari-settle-session.json').map(parseAriEvent).filter((e) => e !== null);
    const settle = events.find((e) => e.type === 'StasisStart' && e.args[0] === 'settle');
    expect(settle).toMatchObject({ args: ['settle', '01JDGQ7K3M5X8Y2Z4A6B8C0D1E', '4', 'ANSWER'], channel: { id: '1795265376.31', state: 'Up' } });
    expect(events.filter((e) => e.type === 'StasisEnd').map((e) => (e.type === 'StasisEnd' ? e.channelId : ''))).toContain('1795265376.31');
  });

  it('reads a hangup while in Stasis (ari-app-silent.json)', () => {
    const hangup = capturedEvents('ari-app-silent.json').map(parseAriEvent).find((e) => e?.type === 'ChannelHangupRequest');
    expect(hangup).toEqual({ type: 'ChannelHangupRequest', channelId: '1795265760.103' });
  });

  it.each([
    ['a ChannelVarset (not read)', { type: 'ChannelVarset', variable: 'X', value: '', channel: { id: '1.2' } }],
    ['a StasisStart without args', { type: 'StasisStart', channel: { id: '1.2' } }],
    ['an event without a channel id', { type: 'StasisEnd', channel: {} }],
    ['not an object', 'StasisStart'],
    ['null', null],
  ])('ignores %s', (_name, raw) => {
    expect(parseAriEvent(raw)).toBeNull();
  });
});
