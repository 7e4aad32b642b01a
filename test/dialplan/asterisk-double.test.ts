import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelSpec } from '../support/dialplan/channel.js';
import { parseDialplan } from '../support/dialplan/conf.js';
import { placeCall, type CallRecord } from '../support/dialplan/pbx.js';
import { startMuteGuard, type MuteGuard } from '../support/unanswering-guards.js';

/**
 * The dialplan double replays the lab contexts of dialplan-deadline.md (a) and (b), shortened
 * (deadline 0.5 s instead of 5 s, the mute guard closes after 1.5 s instead of 12 s), and must
 * give each case's row of the capture's table.
 */
const DEADLINE_S = 0.5;
const GUARD_CLOSES_MS = 1500;

const LAB = parseDialplan(`
[dg-deadline-test]
exten => 901,1,Set(CHANNEL(hangup_handler_push)=dg-deadline-test-hh,s,1(901))
 same => n,Set(DIALGUARD_RESULT=)
 same => n,Set(TIMEOUT(absolute)=${DEADLINE_S})
 same => n,AGI(\${GUARD}/authorize,1001,\${EXTEN},127.0.0.2:5060,phone)
 same => n,Verbose(1,DG-DEADLINE after AGI)
 same => n,Hangup()
exten => 902,1,Set(CHANNEL(hangup_handler_push)=dg-deadline-test-hh,s,1(902))
 same => n,Set(AGIEXITONHANGUP=yes)
 same => n,Set(TIMEOUT(absolute)=${DEADLINE_S})
 same => n,AGI(\${GUARD}/authorize,1001,\${EXTEN},127.0.0.2:5060,phone)
 same => n,Verbose(1,DG-DEADLINE after AGI)
 same => n,Hangup()
exten => 903,1,Set(CHANNEL(hangup_handler_push)=dg-deadline-test-hh,s,1(903))
 same => n,Gosub(dg-deadline-test-sub,s,1(\${EXTEN}))
 same => n,Verbose(1,DG-DEADLINE after Gosub)
 same => n,Hangup()
exten => 904,1,Set(CHANNEL(hangup_handler_push)=dg-deadline-test-hh,s,1(904))
 same => n,Gosub(dg-deadline-test-sub-t,s,1(\${EXTEN}))
 same => n,Verbose(1,DG-DEADLINE after Gosub DIALGUARD_RESULT=[\${DIALGUARD_RESULT}] AGIEXITONHANGUP=[\${AGIEXITONHANGUP}] TIMEOUT(absolute)=[\${TIMEOUT(absolute)}])
 same => n,GotoIf($["\${DIALGUARD_RESULT}" != "ALLOW"]?deny)
 same => n,Hangup()
 same => n(deny),Verbose(1,DG-DEADLINE fail-closed branch ran)
 same => n,Hangup(21)
exten => h,1,Verbose(1,DG-DEADLINE h-exten AGISTATUS=[\${AGISTATUS}] HANGUPCAUSE=[\${HANGUPCAUSE}])

[dg-deadline-test-t]
exten => 911,1,Set(CHANNEL(hangup_handler_push)=dg-deadline-test-hh,s,1(911))
 same => n,Set(AGIEXITONHANGUP=yes)
 same => n,Set(TIMEOUT(absolute)=${DEADLINE_S})
 same => n,AGI(\${GUARD}/authorize,1001,\${EXTEN},127.0.0.2:5060,phone)
 same => n,Verbose(1,DG-DEADLINE after AGI)
 same => n,Hangup()
exten => 912,1,Set(CHANNEL(hangup_handler_push)=dg-deadline-test-hh,s,1(912))
 same => n,Set(TIMEOUT(absolute)=${DEADLINE_S})
 same => n,AGI(\${GUARD}/authorize,1001,\${EXTEN},127.0.0.2:5060,phone)
 same => n,Verbose(1,DG-DEADLINE after AGI)
 same => n,Hangup()
exten => T,1,Verbose(1,DG-DEADLINE T-exten AGISTATUS=[\${AGISTATUS}] TIMEOUT(absolute)=[\${TIMEOUT(absolute)}] CHANNEL(state)=[\${CHANNEL(state)}])
 same => n,Hangup(21)
exten => h,1,Verbose(1,DG-DEADLINE h-exten AGISTATUS=[\${AGISTATUS}] HANGUPCAUSE=[\${HANGUPCAUSE}])

[dg-deadline-test-sub]
exten => s,1,Set(LOCAL(AGIEXITONHANGUP)=yes)
 same => n,Set(DIALGUARD_RESULT=)
 same => n,Set(TIMEOUT(absolute)=${DEADLINE_S})
 same => n,AGI(\${GUARD}/authorize,1001,\${ARG1},127.0.0.2:5060,phone)
 same => n,Verbose(1,DG-DEADLINE after AGI)
 same => n,Set(TIMEOUT(absolute)=0)
 same => n,Return()

[dg-deadline-test-sub-t]
exten => s,1,Set(LOCAL(AGIEXITONHANGUP)=yes)
 same => n,Set(DIALGUARD_RESULT=)
 same => n,Set(TIMEOUT(absolute)=${DEADLINE_S})
 same => n,AGI(\${GUARD}/authorize,1001,\${ARG1},127.0.0.2:5060,phone)
 same => n,Verbose(1,DG-DEADLINE after AGI)
 same => n,Set(TIMEOUT(absolute)=0)
 same => n,Return()
exten => T,1,Verbose(1,DG-DEADLINE sub T-exten AGISTATUS=[\${AGISTATUS}] AGIEXITONHANGUP=[\${AGIEXITONHANGUP}] TIMEOUT(absolute)=[\${TIMEOUT(absolute)}])
 same => n,Set(DIALGUARD_RESULT=DENY)
 same => n,Set(DIALGUARD_REASON=guard_timeout)
 same => n,Return()

[dg-deadline-test-hh]
exten => s,1,Verbose(1,DG-DEADLINE \${ARG1} hangup handler AGISTATUS=[\${AGISTATUS}] DIALGUARD_RESULT=[\${DIALGUARD_RESULT}] HANGUPCAUSE=[\${HANGUPCAUSE}])
 same => n,Return()

[dg-deadline-test-recvip]
exten => execif,1,Set(LOCAL(source)=)
 same => n,ExecIf($["\${CHANNEL(channeltype)}" = "SIP"]?Set(LOCAL(source)=\${CHANNEL(recvip)}))
 same => n,Verbose(1,DG-RECVIP execif done source=[\${source}])
 same => n,Return()
exten => ifexpr,1,Set(LOCAL(source)=)
 same => n,Set(LOCAL(source)=\${IF($["\${CHANNEL(channeltype)}" = "SIP"]?\${CHANNEL(recvip)}:\${source})})
 same => n,Verbose(1,DG-RECVIP ifexpr done source=[\${source}])
 same => n,Return()
exten => gotoif,1,Set(LOCAL(source)=)
 same => n,GotoIf($["\${CHANNEL(channeltype)}" != "PJSIP"]?notpjsip)
 same => n,Set(LOCAL(source)=\${CHANNEL(pjsip,remote_addr)})
 same => n(notpjsip),GotoIf($["\${CHANNEL(channeltype)}" != "SIP"]?notsip)
 same => n,Set(LOCAL(source)=\${CHANNEL(recvip)})
 same => n(notsip),Verbose(1,DG-RECVIP gotoif done source=[\${source}])
 same => n,Return()

[dg-recvip-call]
exten => _[a-z].,1,Gosub(dg-deadline-test-recvip,\${EXTEN},1)
 same => n,Hangup()
`);

const PJSIP: ChannelSpec = { tech: 'PJSIP', endpoint: '1001', remoteAddr: '127.0.0.2:5060', callerId: { num: '1001' } };
const LOCAL: ChannelSpec = { tech: 'Local', callerId: { num: '1001' } };

let guard: MuteGuard;
beforeAll(async () => {
  guard = await startMuteGuard({ closeAfterMs: GUARD_CLOSES_MS });
});
afterAll(() => guard.close());

const call = (context: string, exten: string, channel = PJSIP): Promise<CallRecord> =>
  placeCall({ dialplan: LAB, context, exten, channel, globals: { GUARD: guard.url } });

const ran = (r: CallRecord, text: string): boolean => r.log.some((l) => l.includes(text));
const deadlineMs = DEADLINE_S * 1000;

describe('the dialplan double against dialplan-deadline.md (a): a guard that accepts and never answers', () => {
  it.concurrent('901: TIMEOUT(absolute) alone: HANGUP at the deadline, AGI() waits for the guard to close, no T, cause 0', async () => {
    const r = await call('dg-deadline-test', '901');
    const agi = r.agi[0];
    expect(agi?.status).toBe('HANGUP');
    expect(agi?.endedMs).toBeGreaterThanOrEqual(GUARD_CLOSES_MS);
    expect(agi?.transcript?.received).toBe('');
    expect(agi?.transcript?.hangupsSent).toBe(2);
    expect(ran(r, 'after AGI')).toBe(false);
    expect(ran(r, 'h-exten AGISTATUS=[HANGUP] HANGUPCAUSE=[0]')).toBe(true);
    expect(ran(r, '901 hangup handler AGISTATUS=[HANGUP] DIALGUARD_RESULT=[] HANGUPCAUSE=[0]')).toBe(true);
    expect(r.final).toBe('603 Decline');
  });

  it.concurrent('902: + AGIEXITONHANGUP=yes: HANGUP twice at the deadline, Asterisk closes, AGI() returns at once', async () => {
    const r = await call('dg-deadline-test', '902');
    const agi = r.agi[0];
    expect(agi?.status).toBe('HANGUP');
    expect(agi?.endedMs).toBeGreaterThanOrEqual(deadlineMs);
    expect(agi?.endedMs).toBeLessThan(GUARD_CLOSES_MS);
    expect(agi?.transcript?.end).toBe('asterisk-exit');
    expect(agi?.transcript?.hangupsSent).toBe(2);
    expect(ran(r, 'after AGI')).toBe(false);
    expect(r.hangupCause).toBe(0);
    expect(r.final).toBe('603 Decline');
  });

  it.concurrent('903: a Gosub routine with LOCAL(AGIEXITONHANGUP) and no T: nothing after AGI() runs, the caller context h does not, the handler does', async () => {
    const r = await call('dg-deadline-test', '903');
    expect(r.agi[0]?.status).toBe('HANGUP');
    expect(r.agi[0]?.endedMs).toBeLessThan(GUARD_CLOSES_MS);
    expect(r.agi[0]?.transcript?.end).toBe('asterisk-exit');
    expect(ran(r, 'after AGI')).toBe(false);
    expect(ran(r, 'after Gosub')).toBe(false);
    expect(ran(r, 'h-exten')).toBe(false);
    expect(ran(r, '903 hangup handler AGISTATUS=[HANGUP] DIALGUARD_RESULT=[] HANGUPCAUSE=[0]')).toBe(true);
    expect(r.final).toBe('603 Decline');
  });

  it.concurrent('904: T in the routine sets DENY and returns: the caller fails closed with Hangup(21), h and the handler run', async () => {
    const r = await call('dg-deadline-test', '904');
    expect(r.agi[0]?.status).toBe('HANGUP');
    expect(r.agi[0]?.endedMs).toBeLessThan(GUARD_CLOSES_MS);
    expect(r.executed).toContain('T@dg-deadline-test-sub-t:1');
    expect(ran(r, 'sub T-exten AGISTATUS=[HANGUP] AGIEXITONHANGUP=[yes] TIMEOUT(absolute)=[0]')).toBe(true);
    expect(ran(r, 'DG-DEADLINE after AGI')).toBe(false);
    // Back in the caller: the frame is gone, so is AGIEXITONHANGUP.
    expect(ran(r, 'after Gosub DIALGUARD_RESULT=[DENY] AGIEXITONHANGUP=[] TIMEOUT(absolute)=[0]')).toBe(true);
    expect(ran(r, 'fail-closed branch ran')).toBe(true);
    expect(ran(r, 'h-exten AGISTATUS=[HANGUP] HANGUPCAUSE=[21]')).toBe(true);
    expect(ran(r, '904 hangup handler AGISTATUS=[HANGUP] DIALGUARD_RESULT=[DENY] HANGUPCAUSE=[21]')).toBe(true);
    expect(r.final).toBe('403 Forbidden');
  });

  it.concurrent('911: AGIEXITONHANGUP and T in the same context: T runs with the channel still ringing', async () => {
    const r = await call('dg-deadline-test-t', '911');
    expect(r.agi[0]?.endedMs).toBeLessThan(GUARD_CLOSES_MS);
    expect(ran(r, 'T-exten AGISTATUS=[HANGUP] TIMEOUT(absolute)=[0] CHANNEL(state)=[Ring]')).toBe(true);
    expect(ran(r, 'after AGI')).toBe(false);
    expect(r.final).toBe('403 Forbidden');
  });

  it.concurrent('912: T without AGIEXITONHANGUP: T only once the guard has closed', async () => {
    const r = await call('dg-deadline-test-t', '912');
    expect(r.agi[0]?.transcript?.end).toBe('server-fin');
    expect(r.deadlines[0]?.atMs).toBeGreaterThanOrEqual(GUARD_CLOSES_MS);
    expect(ran(r, 'T-exten AGISTATUS=[HANGUP]')).toBe(true);
    expect(r.final).toBe('403 Forbidden');
  });
});

describe('the dialplan double against dialplan-deadline.md (b): reading chan_sip recvip', () => {
  const RECVIP = "WARNING func_channel.c: Unknown or unavailable item requested: 'recvip'";
  it.each([
    ['execif', 'PJSIP', true],
    ['execif', 'Local', true],
    ['ifexpr', 'PJSIP', true],
    ['ifexpr', 'Local', true],
    ['gotoif', 'PJSIP', false],
    ['gotoif', 'Local', false],
  ] as const)('%s on a %s channel: WARNING %s', async (exten, tech, warns) => {
    const r = await placeCall({ dialplan: LAB, context: 'dg-recvip-call', exten, channel: tech === 'PJSIP' ? PJSIP : LOCAL });
    expect(r.warnings.includes(RECVIP)).toBe(warns);
    // ExecIf's whole argument is expanded before it runs.
    if (exten === 'execif') expect(r.log.some((l) => l.includes('ExecIf(') && l.endsWith(', "0?Set(LOCAL(source)=)") in new stack'))).toBe(true);
    if (exten === 'gotoif') expect(ran(r, `gotoif done source=[${tech === 'PJSIP' ? '127.0.0.2:5060' : ''}]`)).toBe(true);
  });
});
