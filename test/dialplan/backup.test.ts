import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appLogLine } from '../support/dialplan/applications.js';
import { readShippedDialplan } from '../support/dialplan/conf.js';
import { placeCall, type CallRecord, type PlaceCallOptions } from '../support/dialplan/pbx.js';
import { refusedPort, startMuteGuard, startStalledPort, type MuteGuard, type StalledPort } from '../support/unanswering-guards.js';
import { startRealGuard, type RealGuard } from './guard.js';

/**
 * DIALGUARD_AGI_BACKUP in the shipped extensions-dialguard.conf: asked when the first guard cannot
 * be reached (AGISTATUS=FAILURE, agi-server-down.json), never after an answer.
 */
const SHIPPED = readShippedDialplan('extensions-dialguard.conf');
const LAN = '192.168.1.20:5060';
const LONDON = '011442079460000';
const PLAYBACK = { 'ss-noservice': 5000 };

let backup: RealGuard;
let refused: { url: string };
let otherRefused: { url: string };
let stalled: StalledPort;
let otherStalled: StalledPort;
let mute: MuteGuard;
beforeAll(async () => {
  [backup, refused, otherRefused, stalled, otherStalled, mute] = await Promise.all([
    startRealGuard(),
    refusedPort(),
    refusedPort(),
    startStalledPort(),
    startStalledPort(),
    startMuteGuard(),
  ]);
});
afterAll(async () => {
  await Promise.all([backup?.close(), stalled?.close(), otherStalled?.close(), mute?.close()]);
});

function dialOut(ext: string, globals: Record<string, string>, options: Partial<PlaceCallOptions> = {}): Promise<CallRecord> {
  return placeCall({
    dialplan: SHIPPED,
    context: 'dialguard-outbound',
    exten: LONDON,
    channel: { tech: 'PJSIP', endpoint: ext, remoteAddr: LAN, callerId: { num: ext } },
    globals: { DIALGUARD_TRUNK: 'carrier', ...globals },
    playbackMs: PLAYBACK,
    agiGiveUpAfterMs: 8000,
    ...options,
  });
}

describe('a second guard in DIALGUARD_AGI_BACKUP', () => {
  it('first guard refused: the backup is asked at once, allows, and settles the call', async () => {
    const r = await dialOut('1001', { DIALGUARD_AGI: refused.url, DIALGUARD_AGI_BACKUP: backup.url });
    expect(r.agi.map((a) => [a.url, a.status, a.deadChannel])).toEqual([
      [`${refused.url}/authorize`, 'FAILURE', false],
      [`${backup.url}/authorize`, 'SUCCESS', false],
      [`${refused.url}/settle`, 'FAILURE', true],
      [`${backup.url}/settle`, 'SUCCESS', true],
    ]);
    expect(r.warnings).toContainEqual(expect.stringMatching(appLogLine('WARNING', 's', 'dialguard-authorize', `dialguard ${refused.url} unreachable - asking ${backup.url} for 1001 -> ${LONDON}`)));
    expect(r.variables).toMatchObject({ DIALGUARD_RESULT: 'ALLOW', DIALGUARD_REASON: 'allowed', DIALGUARD_LIMIT_MS: '3600000' });
    expect(r.dials[0]).toMatchObject({ placed: true, limitMs: 3600000 });
    expect(r.deadlines).toEqual([]);
    expect(r.finalVariables.DIALGUARD_SETTLED).toBe(`settled ${r.variables.DIALGUARD_CALL_ID}`);
  });

  it('first guard never completes the handshake: after Asterisk\'s 2 s the backup still answers within the deadline', async () => {
    const r = await dialOut('1001', { DIALGUARD_AGI: stalled.url, DIALGUARD_AGI_BACKUP: backup.url });
    expect(r.agi[0]?.status).toBe('FAILURE');
    expect(r.agi[0]?.endedMs).toBeGreaterThanOrEqual(2000);
    expect(r.warnings).toContain(`WARNING res_agi.c: FastAGI connection to '${stalled.url}/authorize' timed out after MAX_AGI_CONNECT (2000) milliseconds.`);
    expect(r.agi[1]?.status).toBe('SUCCESS');
    expect(r.deadlines).toEqual([]);
    expect(r.variables.DIALGUARD_RESULT).toBe('ALLOW');
    expect(r.dials[0]?.placed).toBe(true);
  });

  it('a first guard that answers DENY is final: the backup is never asked', async () => {
    const before = mute.sessions.length;
    // 1002 may call the US only.
    const r = await dialOut('1002', { DIALGUARD_AGI: backup.url, DIALGUARD_AGI_BACKUP: mute.url });
    expect(r.agi.map((a) => a.url)).toEqual([`${backup.url}/authorize`]);
    expect(mute.sessions.length).toBe(before);
    expect(r.variables).toMatchObject({ DIALGUARD_RESULT: 'DENY', DIALGUARD_REASON: 'destination_country_denied' });
    expect(r.final).toBe('403 Forbidden');
  });

  it('a first guard that accepts and never answers is given up at the deadline, not retried on the backup', async () => {
    const r = await dialOut('1001', { DIALGUARD_AGI: mute.url, DIALGUARD_AGI_BACKUP: backup.url, DIALGUARD_DEADLINE: '1' });
    expect(r.agi.map((a) => a.url)).toEqual([`${mute.url}/authorize`]);
    expect(r.variables).toMatchObject({ DIALGUARD_RESULT: 'DENY', DIALGUARD_REASON: 'guard_error' });
  });

  it('both refused: fails closed at once with guard_error', async () => {
    const r = await dialOut('1001', { DIALGUARD_AGI: refused.url, DIALGUARD_AGI_BACKUP: otherRefused.url });
    expect(r.agi.map((a) => a.status)).toEqual(['FAILURE', 'FAILURE']);
    expect(r.deadlines).toEqual([]);
    expect(r.variables).toMatchObject({ DIALGUARD_RESULT: 'DENY', DIALGUARD_REASON: 'guard_error', DIALGUARD_MESSAGE: 'The call guard did not answer' });
    expect(r.dials).toEqual([]);
    expect(r.hangupCause).toBe(21);
  });

  it('both without a handshake (2 s each): the deadline passes in the second connect, and the phone still has its answer within 10 s', async () => {
    const r = await dialOut('1001', { DIALGUARD_AGI: stalled.url, DIALGUARD_AGI_BACKUP: otherStalled.url });
    expect(r.agi.map((a) => a.status)).toEqual(['FAILURE', 'FAILURE']);
    expect(r.agi[1]?.endedMs).toBeGreaterThanOrEqual(4000);
    // Asterisk acts on the deadline once the connect it cannot interrupt has failed.
    expect(r.executed).toContain('T@dialguard-authorize:1');
    expect(r.variables).toMatchObject({ DIALGUARD_RESULT: 'DENY', DIALGUARD_REASON: 'guard_error', DIALGUARD_CALL_ID: '' });
    expect(r.final).toBe('403 Forbidden');
    expect(r.finalAtMs).toBeLessThan(10_000);
  });

  it('first guard down at hangup only: the backup, on the same database, settles the call the first one allowed', async () => {
    const first = await startRealGuard({ dbPath: backup.dbPath });
    try {
      const r = await dialOut('1001', { DIALGUARD_AGI: first.url, DIALGUARD_AGI_BACKUP: backup.url }, {
        dial: async () => {
          await first.close();
          return { status: 'ANSWER', answeredSeconds: 7 };
        },
      });
      expect(r.agi.map((a) => [a.url, a.status])).toEqual([
        [`${first.url}/authorize`, 'SUCCESS'],
        [`${first.url}/settle`, 'FAILURE'],
        [`${backup.url}/settle`, 'SUCCESS'],
      ]);
      expect(r.finalVariables.DIALGUARD_SETTLED).toBe(`settled ${r.variables.DIALGUARD_CALL_ID}`);
    } finally {
      await first.close();
    }
  });
});
