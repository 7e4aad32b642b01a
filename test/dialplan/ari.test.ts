import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ARI_PASSWORD, ARI_USER, startAriFixture, type AriFixture } from '../ari/fixture.js';
import { openEvents, type EventsSocket } from '../ari/ws-client.js';
import { startAsteriskAri, type AsteriskAri } from '../support/asterisk-ari.js';
import { appLogLine } from '../support/dialplan/applications.js';
import { readShippedDialplan } from '../support/dialplan/conf.js';
import { placeCall, type CallRecord, type PlaceCallOptions } from '../support/dialplan/pbx.js';
import { startRealGuard, type RealGuard } from './guard.js';

/**
 * The shipped extensions-dialguard-ari.conf, run by the dialplan double against the ARI double
 * (dialplan-deadline.md (c)): an app that never answers, dialguard's own app, and no app at all
 * with and without the FastAGI backup.
 */
const SHIPPED = readShippedDialplan('extensions-dialguard-ari.conf');
const LAN = '192.168.1.20:5060';
const LONDON = '011442079460000';
const PLAYBACK = { 'ss-noservice': 5000 };
const AUTH = { authorization: `Basic ${Buffer.from(`${ARI_USER}:${ARI_PASSWORD}`).toString('base64')}` };

let app: AriFixture;
let silentAsterisk: AsteriskAri;
let silentApp: EventsSocket;
let lonelyAsterisk: AsteriskAri;
let backup: RealGuard;
beforeAll(async () => {
  [app, silentAsterisk, lonelyAsterisk, backup] = await Promise.all([
    startAriFixture(),
    startAsteriskAri({ user: ARI_USER, password: ARI_PASSWORD }),
    startAsteriskAri({ user: ARI_USER, password: ARI_PASSWORD }),
    startRealGuard(),
  ]);
  // Connected, subscribed to "dialguard", and silent.
  silentApp = await openEvents(silentAsterisk.port, `?app=dialguard&api_key=${encodeURIComponent(`${ARI_USER}:${ARI_PASSWORD}`)}`);
  await silentAsterisk.waitForConnection();
});
afterAll(async () => {
  await silentApp?.close();
  await Promise.all([app?.close(), silentAsterisk?.close(), lonelyAsterisk?.close(), backup?.close()]);
});

function dialOut(ari: AsteriskAri, globals: Record<string, string> = {}, options: Partial<PlaceCallOptions> = {}): Promise<CallRecord> {
  return placeCall({
    dialplan: SHIPPED,
    context: 'dialguard-outbound-ari',
    exten: LONDON,
    channel: { tech: 'PJSIP', endpoint: '1001', remoteAddr: LAN, callerId: { num: '1001' } },
    globals: { DIALGUARD_TRUNK: 'carrier', ...globals },
    ari,
    playbackMs: PLAYBACK,
    agiGiveUpAfterMs: 8000,
    ...options,
  });
}

const post = (ari: AsteriskAri, path: string) => fetch(`${ari.url}/ari/channels/${path}`, { method: 'POST', headers: AUTH });
const types = (socket: EventsSocket, from: number) => socket.messages.slice(from).map((m) => (JSON.parse(m) as { type: string }).type);

describe('the shipped ARI dialplan gives up on an app that never answers', () => {
  it('denies with guard_error at DIALGUARD_DEADLINE (3 s), rejects with cause 21 within 10 s, and a late answer sets nothing', async () => {
    const seen = silentApp.messages.length;
    const r = await dialOut(silentAsterisk);
    const stasis = r.stasis[0];
    expect(stasis).toMatchObject({ status: 'SUCCESS', exit: 'timeout', args: ['authorize', '1001', LONDON, LAN, 'phone'] });
    expect(r.deadlines[0]?.atMs).toBeGreaterThanOrEqual(3000);
    expect(r.executed).toContain('T@dialguard-authorize-ari:1');
    expect(r.warnings).toContainEqual(expect.stringMatching(appLogLine('WARNING', 'T', 'dialguard-authorize-ari', `dialguard did not answer within 3 s for 1001 -> ${LONDON}`)));
    expect(r.variables).toMatchObject({ DIALGUARD_RESULT: 'DENY', DIALGUARD_REASON: 'guard_error', DIALGUARD_LIMIT_MS: '0', DIALGUARD_CALL_ID: '' });
    expect(r.dials).toEqual([]);
    expect(r.final).toBe('403 Forbidden');
    expect(r.finalAtMs).toBeLessThan(10_000);
    expect(r.handlers).toEqual([]);
    // The app got StasisStart, then only StasisEnd; answering now is refused (case 926).
    await vi.waitFor(() => expect(types(silentApp, seen)).toEqual(['StasisStart', 'StasisEnd']));
    const id = stasis?.channel.id as string;
    expect((await post(silentAsterisk, `${id}/variable?variable=DIALGUARD_RESULT&value=ALLOW`)).status).toBe(409);
    expect((await post(silentAsterisk, `${id}/continue`)).status).toBe(409);
    expect(stasis?.channel.vars()).toEqual({});
  });

  it('an app that set a call id and never continued: the call id is cleared, even when failing open', async () => {
    const seen = silentApp.messages.length;
    const call = dialOut(silentAsterisk, { DIALGUARD_DEADLINE: '1', DIALGUARD_FAIL_OPEN: 'yes' });
    await vi.waitFor(() => expect(types(silentApp, seen)).toContain('StasisStart'));
    const channel = silentAsterisk.channels.at(-1);
    expect((await post(silentAsterisk, `${channel?.id}/variable?variable=DIALGUARD_CALL_ID&value=01JDGQ7K3M5X8Y2Z4A6B8C0D1E`)).status).toBe(204);
    const r = await call;
    expect(r.executed).toContain('T@dialguard-authorize-ari:1');
    expect(r.variables).toMatchObject({ DIALGUARD_RESULT: 'ALLOW', DIALGUARD_REASON: 'guard_error', DIALGUARD_LIMIT_MS: '600000', DIALGUARD_CALL_ID: '' });
    expect(r.dials[0]).toMatchObject({ placed: true, limitMs: 600000 });
    expect(r.handlers).toEqual([]);
  });
});

describe('the shipped ARI dialplan with dialguard connected', () => {
  it('clears the deadline before returning, arms the backstop, dials, and settles over Stasis from the hangup handler', async () => {
    const r = await dialOut(app.asterisk);
    expect(r.stasis[0]).toMatchObject({ status: 'SUCCESS', exit: 'continued' });
    expect(r.deadlines).toEqual([]);
    expect(r.timeouts.map((t) => [t.value, t.at.split(':')[0]])).toEqual([
      ['3', 's@dialguard-authorize-ari'],
      ['0', 's@dialguard-authorize-ari'],
      ['3665', `${LONDON}@dialguard-outbound-ari`],
    ]);
    expect(r.variables).toMatchObject({ DIALGUARD_RESULT: 'ALLOW', DIALGUARD_LIMIT_MS: '3600000' });
    expect(r.dials[0]).toMatchObject({ placed: true, limitMs: 3600000 });
    expect(r.handlers.map((h) => h.location)).toEqual(['dialguard-hangup-ari,s,1']);
    expect(r.stasis[1]).toMatchObject({ deadChannel: true, args: ['settle', r.variables.DIALGUARD_CALL_ID, '4', 'ANSWER'] });
    await vi.waitFor(() => expect(app.observer.settlements).toContain('settled'));
    expect(r.warnings).toEqual([]);
  });
});

describe('the shipped ARI dialplan reads the source address without a WARNING (dialplan-deadline.md (b))', () => {
  it.each([
    ['PJSIP', { tech: 'PJSIP', endpoint: '1001', remoteAddr: LAN, callerId: { num: '1001' } }, LAN],
    ['Local', { tech: 'Local', callerId: { num: '1001' } }, ''],
    ['chan_sip', { tech: 'SIP', endpoint: '1001', recvip: '192.168.1.20', callerId: { num: '1001' } }, '192.168.1.20'],
  ] as const)('a %s call', async (_name, channel, source) => {
    const r = await dialOut(app.asterisk, {}, { channel });
    expect(r.stasis[0]?.args).toEqual(['authorize', '1001', LONDON, source, 'phone']);
    expect(r.warnings).toEqual([]);
  });
});

describe('the shipped ARI dialplan with no app connected (STASISSTATUS=FAILED)', () => {
  it('asks DIALGUARD_AGI_BACKUP over FastAGI, allows, and settles there too', async () => {
    const r = await dialOut(lonelyAsterisk, { DIALGUARD_AGI_BACKUP: backup.url });
    expect(r.stasis.map((s) => [s.status, s.deadChannel])).toEqual([
      ['FAILED', false],
      ['FAILED', true],
    ]);
    expect(r.agi.map((a) => [a.url, a.status])).toEqual([
      [`${backup.url}/authorize`, 'SUCCESS'],
      [`${backup.url}/settle`, 'SUCCESS'],
    ]);
    expect(r.variables).toMatchObject({ DIALGUARD_RESULT: 'ALLOW', DIALGUARD_REASON: 'allowed' });
    expect(r.dials[0]?.placed).toBe(true);
    expect(r.finalVariables.DIALGUARD_SETTLED).toBe(`settled ${r.variables.DIALGUARD_CALL_ID}`);
  });

  it('without a backup fails closed at once', async () => {
    const r = await dialOut(lonelyAsterisk);
    expect(r.warnings).toContain("WARNING app_stasis.c: PJSIP/1001-00000001: Stasis app 'dialguard' doesn't exist");
    expect(r.agi).toEqual([]);
    expect(r.deadlines).toEqual([]);
    expect(r.variables).toMatchObject({ DIALGUARD_RESULT: 'DENY', DIALGUARD_REASON: 'guard_error' });
    expect(r.final).toBe('403 Forbidden');
  });

  it('app gone by hangup time: settled by the backup if set, else a WARNING that the reservation will expire', async () => {
    for (const withBackup of [true, false]) {
      const fx = await startAriFixture();
      try {
        const r = await dialOut(fx.asterisk, withBackup ? { DIALGUARD_AGI_BACKUP: backup.url } : {}, {
          dial: async () => {
            await fx.app.close();
            await fx.asterisk.waitForNoConnection();
            return { status: 'ANSWER', answeredSeconds: 7 };
          },
        });
        const callId = r.variables.DIALGUARD_CALL_ID as string;
        expect(r.stasis.map((s) => s.status)).toEqual(['SUCCESS', 'FAILED']);
        const lost = expect.stringMatching(appLogLine('WARNING', 's', 'dialguard-hangup-ari', `dialguard not connected - call ${callId} not settled - its reservation will expire`));
        if (withBackup) {
          // The backup has a database of its own here: it does not know the call.
          expect(r.agi.map((a) => [a.url, a.args])).toEqual([[`${backup.url}/settle`, [callId, '7', 'ANSWER']]]);
          expect(r.finalVariables.DIALGUARD_SETTLED).toBe(`unknown ${callId}`);
          expect(r.warnings).not.toContainEqual(lost);
        } else {
          expect(r.agi).toEqual([]);
          expect(r.warnings).toContainEqual(lost);
        }
      } finally {
        await fx.close();
      }
    }
  });
});
