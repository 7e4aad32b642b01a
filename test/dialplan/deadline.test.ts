import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { appLogLine } from '../support/dialplan/applications.js';
import type { ChannelSpec } from '../support/dialplan/channel.js';
import { parseDialplan, readShippedDialplan, shippedDialplanText } from '../support/dialplan/conf.js';
import { placeCall, type CallRecord, type PlaceCallOptions } from '../support/dialplan/pbx.js';
import { startMuteGuard, type MuteGuard } from '../support/unanswering-guards.js';
import { startRealGuard, type RealGuard } from './guard.js';

/**
 * The shipped extensions-dialguard.conf, run by the dialplan double (dialplan-deadline.md) against
 * a guard that never answers, one cut off half-way through its answer, and dialguard itself.
 */
const SHIPPED = readShippedDialplan('extensions-dialguard.conf');
const LAN = '192.168.1.20:5060';
const LONDON = '011442079460000';
const CALL_ID = '01JDGQ7K3M5X8Y2Z4A6B8C0D1E';
const PHONE: ChannelSpec = { tech: 'PJSIP', endpoint: '1001', remoteAddr: LAN, callerId: { num: '1001' } };
/** ss-noservice, the denial announcement, lasts about 5 s. */
const PLAYBACK = { 'ss-noservice': 5000 };

let real: RealGuard;
let mute: MuteGuard;
let halfway: MuteGuard;
beforeAll(async () => {
  [real, mute, halfway] = await Promise.all([
    startRealGuard(),
    startMuteGuard(),
    startMuteGuard({ commands: ['SET VARIABLE DIALGUARD_LIMIT_MS "3600000"', `SET VARIABLE DIALGUARD_CALL_ID "${CALL_ID}"`] }),
  ]);
});
afterAll(async () => {
  await Promise.all([real?.close(), mute?.close(), halfway?.close()]);
});

function dialOut(globals: Record<string, string>, options: Partial<PlaceCallOptions> = {}): Promise<CallRecord> {
  return placeCall({
    dialplan: SHIPPED,
    context: 'dialguard-outbound',
    exten: LONDON,
    channel: PHONE,
    globals: { DIALGUARD_TRUNK: 'carrier', ...globals },
    playbackMs: PLAYBACK,
    agiGiveUpAfterMs: 8000,
    ...options,
  });
}

const logged = (r: CallRecord, text: string): boolean => r.log.some((l) => l.includes(text));
const deadlineWarning = (seconds: string) =>
  expect.stringMatching(appLogLine('WARNING', 'T', 'dialguard-authorize', `dialguard did not answer within ${seconds} s (AGISTATUS=HANGUP) for 1001 -> ${LONDON}`));

describe('the shipped dialplan gives up on a guard that accepts and never answers', () => {
  it('denies with guard_error at DIALGUARD_DEADLINE (shipped: 3 s), rejects with cause 21, and the phone has its answer within 10 s', async () => {
    const before = mute.sessions.length;
    const r = await dialOut({ DIALGUARD_AGI: mute.url });
    const agi = r.agi[0];
    expect(agi?.status).toBe('HANGUP');
    expect(agi?.endedMs).toBeGreaterThanOrEqual(3000);
    // AGIEXITONHANGUP: HANGUP twice at the deadline, then Asterisk closes (case 904).
    expect(agi?.transcript).toMatchObject({ end: 'asterisk-exit', hangupsSent: 2 });
    await vi.waitFor(() => expect(mute.sessions[before]?.asteriskClosedMs).toBeDefined());
    expect(r.executed).toContain('T@dialguard-authorize:1');
    expect(r.warnings).toContainEqual(deadlineWarning('3'));
    expect(logged(r, 'dialguard did not answer (AGISTATUS=')).toBe(false);
    expect(r.variables).toMatchObject({ DIALGUARD_RESULT: 'DENY', DIALGUARD_REASON: 'guard_error', DIALGUARD_LIMIT_MS: '0', DIALGUARD_CALL_ID: '' });
    expect(r.dials).toEqual([]);
    expect(r.media).toEqual(['Progress()', 'Playback(ss-noservice,noanswer)']);
    expect(r.hangupCause).toBe(21);
    expect(r.final).toBe('403 Forbidden');
    expect(r.finalAtMs).toBeLessThan(10_000);
    expect(r.handlers).toEqual([]);
  });

  it('fails open on a deadline when DIALGUARD_FAIL_OPEN=yes: dialled with the fail-open limit, unbudgeted, nothing to settle', async () => {
    const r = await dialOut({ DIALGUARD_AGI: mute.url, DIALGUARD_DEADLINE: '1', DIALGUARD_FAIL_OPEN: 'yes' });
    expect(r.executed).toContain('T@dialguard-authorize:1');
    expect(r.variables).toMatchObject({ DIALGUARD_RESULT: 'ALLOW', DIALGUARD_REASON: 'guard_error', DIALGUARD_LIMIT_MS: '600000', DIALGUARD_CALL_ID: '' });
    expect(r.dials).toHaveLength(1);
    expect(r.dials[0]).toMatchObject({ placed: true, limitMs: 600000, data: `PJSIP/${LONDON}@carrier,60,iL(600000:60000:30000)` });
    // Only the dial-time backstop is armed: the deadline was cleared by T.
    expect(r.dials[0]?.absoluteTimeoutS).toBeGreaterThan(600);
    expect(r.handlers).toEqual([]);
  });

  it('a guard cut off half-way (limit and call id set, no result): DENY, and the call id and limit are cleared', async () => {
    const r = await dialOut({ DIALGUARD_AGI: halfway.url, DIALGUARD_DEADLINE: '1' });
    expect(r.agi[0]?.transcript?.variables.get('DIALGUARD_CALL_ID')).toBe(CALL_ID);
    expect(r.executed).toContain('T@dialguard-authorize:1');
    expect(r.variables).toMatchObject({ DIALGUARD_RESULT: 'DENY', DIALGUARD_REASON: 'guard_error', DIALGUARD_LIMIT_MS: '0', DIALGUARD_CALL_ID: '' });
    expect(r.final).toBe('403 Forbidden');
    expect(r.handlers).toEqual([]);
  });

  it('the same guard with fail open: the hangup handler is not left with the half-set call id', async () => {
    const r = await dialOut({ DIALGUARD_AGI: halfway.url, DIALGUARD_DEADLINE: '1', DIALGUARD_FAIL_OPEN: 'yes' });
    expect(r.variables).toMatchObject({ DIALGUARD_RESULT: 'ALLOW', DIALGUARD_LIMIT_MS: '600000', DIALGUARD_CALL_ID: '' });
    expect(r.dials[0]?.limitMs).toBe(600000);
    expect(r.handlers).toEqual([]);
    expect(r.agi.filter((a) => a.deadChannel)).toEqual([]);
  });

  it('a guard that closes after half an answer (AGISTATUS=SUCCESS, no result) gets the same treatment without waiting for the deadline', async () => {
    const closing = await startMuteGuard({ commands: [`SET VARIABLE DIALGUARD_CALL_ID "${CALL_ID}"`], closeAfterMs: 100 });
    try {
      const r = await dialOut({ DIALGUARD_AGI: closing.url, DIALGUARD_FAIL_OPEN: 'yes' });
      expect(r.agi[0]?.status).toBe('SUCCESS');
      expect(r.deadlines).toEqual([]);
      expect(r.warnings).toContainEqual(expect.stringMatching(appLogLine('WARNING', 's', 'dialguard-authorize', `dialguard did not answer (AGISTATUS=SUCCESS) for 1001 -> ${LONDON}`)));
      expect(r.variables).toMatchObject({ DIALGUARD_RESULT: 'ALLOW', DIALGUARD_CALL_ID: '' });
      expect(r.handlers).toEqual([]);
    } finally {
      await closing.close();
    }
  });

  it('voicemail dial-out (an answered channel) gets the deadline of the same routine', async () => {
    const r = await placeCall({
      dialplan: SHIPPED,
      context: 'dialguard-vm-dialout',
      exten: LONDON,
      channel: { ...PHONE, state: 'Up' },
      globals: { DIALGUARD_AGI: mute.url, DIALGUARD_DEADLINE: '1' },
      agiGiveUpAfterMs: 8000,
    });
    expect(r.agi[0]?.args).toEqual(['1001', LONDON, LAN, 'voicemail']);
    expect(r.executed).toContain('T@dialguard-authorize:1');
    expect(r.variables).toMatchObject({ DIALGUARD_RESULT: 'DENY', DIALGUARD_REASON: 'guard_error' });
    expect(r.dials).toEqual([]);
    expect(r.media).toEqual(['Playback(ss-noservice)']);
    expect(r.hangupCause).toBe(21);
  });
});

describe('the shipped dialplan with a guard that answers in time (dialguard serve)', () => {
  it('clears the deadline before returning, arms the dial-time backstop, dials with the limit and settles from the hangup handler', async () => {
    const r = await dialOut({ DIALGUARD_AGI: real.url });
    expect(r.agi[0]).toMatchObject({ status: 'SUCCESS', args: ['1001', LONDON, LAN, 'phone'] });
    expect(r.deadlines).toEqual([]);
    expect(r.timeouts.map((t) => [t.value, t.at.split(':')[0]])).toEqual([
      ['3', 's@dialguard-authorize'],
      ['0', 's@dialguard-authorize'],
      ['3665', `${LONDON}@dialguard-outbound`],
    ]);
    const callId = r.variables.DIALGUARD_CALL_ID as string;
    expect(callId).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(r.dials).toHaveLength(1);
    expect(r.dials[0]).toMatchObject({ placed: true, limitMs: 3600000, data: `PJSIP/${LONDON}@carrier,60,iL(3600000:60000:30000)` });
    expect(r.dials[0]?.absoluteTimeoutS).toBeGreaterThan(3600);
    expect(r.handlers.map((h) => h.location)).toEqual(['dialguard-hangup,s,1']);
    expect(r.agi[1]).toMatchObject({ deadChannel: true, status: 'SUCCESS', args: [callId, '4', 'ANSWER'] });
    expect(r.finalVariables.DIALGUARD_SETTLED).toBe(`settled ${callId}`);
    expect(r.warnings).toEqual([]);
  });

  it("a site's own context that Gosubs the routine and dials without a backstop has no absolute timeout left during Dial", async () => {
    // Left armed, it would cut the answered call DIALGUARD_DEADLINE after the routine set it (case 906).
    const site = parseDialplan(`${shippedDialplanText('extensions-dialguard.conf')}
[site-outbound]
exten => _X.,1,Gosub(dialguard-authorize,s,1(\${EXTEN}))
 same => n,GotoIf($["\${DIALGUARD_RESULT}" != "ALLOW"]?denied)
 same => n,Dial(PJSIP/\${EXTEN}@\${DIALGUARD_TRUNK},60,L(\${DIALGUARD_LIMIT_MS}))
 same => n,Hangup()
 same => n(denied),Hangup(21)
`);
    const r = await placeCall({ dialplan: site, context: 'site-outbound', exten: LONDON, channel: PHONE, globals: { DIALGUARD_AGI: real.url } });
    expect(r.variables.DIALGUARD_RESULT).toBe('ALLOW');
    expect(r.dials[0]).toMatchObject({ placed: true, absoluteTimeoutS: 0 });
  });
});

describe('reading the source address logs no WARNING (dialplan-deadline.md (b))', () => {
  it.each([
    ['PJSIP', PHONE, ['1001', LONDON, LAN, 'phone']],
    ['Local', { tech: 'Local', callerId: { num: '1001' } }, ['1001', LONDON, '', 'phone']],
    ['chan_sip', { tech: 'SIP', endpoint: '1001', recvip: '192.168.1.20', callerId: { num: '1001' } }, ['1001', LONDON, '192.168.1.20', 'phone']],
  ] as const)('a %s call passes its source, and Asterisk logs nothing', async (_name, channel, args) => {
    const r = await dialOut({ DIALGUARD_AGI: real.url }, { channel });
    expect(r.agi[0]?.args).toEqual(args);
    expect(r.warnings).toEqual([]);
  });
});
