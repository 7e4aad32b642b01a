import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEFAULTS } from '../../src/config/config.js';
import { EMERGENCY_LIMIT_SECONDS } from '../../src/engine/engine.js';
import { emergencyNumbers } from '../../src/numbers/emergency.js';
import { ARI_PASSWORD, ARI_USER } from '../ari/fixture.js';
import { openEvents, type EventsSocket } from '../ari/ws-client.js';
import { startAsteriskAri, type AsteriskAri } from '../support/asterisk-ari.js';
import { appLogLine } from '../support/dialplan/applications.js';
import { readShippedDialplan, type Dialplan } from '../support/dialplan/conf.js';
import { placeCall, type CallRecord, type PlaceCallOptions } from '../support/dialplan/pbx.js';
import { refusedPort, startMuteGuard, type MuteGuard } from '../support/unanswering-guards.js';
import { startRealGuard, type RealGuard } from './guard.js';

/**
 * DIALGUARD_EMERGENCY in the shipped dialplans: emergency numbers of the home country are always
 * allowed (design.md), so when no guard answers (unreachable, nothing set, the deadline's T) a
 * call to one is put through; when a guard answers, its answer stands.
 */
const FASTAGI = readShippedDialplan('extensions-dialguard.conf');
const ARI = readShippedDialplan('extensions-dialguard-ari.conf');
const LAN = '192.168.1.20:5060';
const LONDON = '011442079460000';
const EMERGENCY_LIMIT_MS = String(EMERGENCY_LIMIT_SECONDS * 1000);
const AUTH = { authorization: `Basic ${Buffer.from(`${ARI_USER}:${ARI_PASSWORD}`).toString('base64')}` };

let real: RealGuard;
let refused: { url: string };
let mute: MuteGuard;
let denying: MuteGuard;
let closing: MuteGuard;
let lonelyAsterisk: AsteriskAri;
let silentAsterisk: AsteriskAri;
let silentApp: EventsSocket;
beforeAll(async () => {
  [real, refused, mute, denying, closing, lonelyAsterisk, silentAsterisk] = await Promise.all([
    startRealGuard(),
    refusedPort(),
    startMuteGuard(),
    // Impossible from dialguard (it allows emergency numbers itself), but a DENY must stand.
    startMuteGuard({ commands: ['SET VARIABLE DIALGUARD_REASON "destination_country_denied"', 'SET VARIABLE DIALGUARD_LIMIT_MS "0"', 'SET VARIABLE DIALGUARD_RESULT "DENY"'], closeAfterMs: 200 }),
    startMuteGuard({ closeAfterMs: 50 }),
    startAsteriskAri({ user: ARI_USER, password: ARI_PASSWORD }),
    startAsteriskAri({ user: ARI_USER, password: ARI_PASSWORD }),
  ]);
  silentApp = await openEvents(silentAsterisk.port, `?app=dialguard&api_key=${encodeURIComponent(`${ARI_USER}:${ARI_PASSWORD}`)}`);
  await silentAsterisk.waitForConnection();
});
afterAll(async () => {
  await silentApp?.close();
  await Promise.all([real?.close(), mute?.close(), denying?.close(), closing?.close(), lonelyAsterisk?.close(), silentAsterisk?.close()]);
});

function call(dialplan: Dialplan, context: string, exten: string, globals: Record<string, string>, options: Partial<PlaceCallOptions> = {}): Promise<CallRecord> {
  return placeCall({
    dialplan,
    context,
    exten,
    channel: { tech: 'PJSIP', endpoint: '1001', remoteAddr: LAN, callerId: { num: '1001' } },
    globals: { DIALGUARD_TRUNK: 'carrier', ...globals },
    agiGiveUpAfterMs: 8000,
    ...options,
  });
}

const dialOut = (exten: string, globals: Record<string, string>) => call(FASTAGI, 'dialguard-outbound', exten, globals);
const emergencyWarning = (context: string, number: string) =>
  expect.stringMatching(appLogLine('WARNING', 's', context, `dialguard did not answer - ${number} is an emergency number - allowed unchecked for 1001`));

/** Put through as an emergency call without a decision: nothing to settle, the emergency limit. */
function expectEmergencyBypass(r: CallRecord, number: string, context = 'dialguard-authorize'): void {
  expect(r.variables).toMatchObject({
    DIALGUARD_RESULT: 'ALLOW',
    DIALGUARD_REASON: 'emergency',
    DIALGUARD_MESSAGE: 'Emergency call allowed without the call guard',
    DIALGUARD_LIMIT_MS: EMERGENCY_LIMIT_MS,
    DIALGUARD_CALL_ID: '',
  });
  expect(r.dials.map((d) => [d.dialString, d.limitMs, d.placed])).toEqual([[`PJSIP/${number}@carrier`, EMERGENCY_LIMIT_SECONDS * 1000, true]]);
  expect(r.dials[0]?.absoluteTimeoutS).toBeGreaterThan(EMERGENCY_LIMIT_SECONDS);
  expect(r.warnings).toContainEqual(emergencyWarning(context, number));
  expect(r.handlers).toEqual([]);
}

function expectGuardError(r: CallRecord): void {
  expect(r.variables).toMatchObject({ DIALGUARD_RESULT: 'DENY', DIALGUARD_REASON: 'guard_error', DIALGUARD_LIMIT_MS: '0', DIALGUARD_CALL_ID: '' });
  expect(r.dials).toEqual([]);
  expect(r.warnings.filter((w) => w.includes('emergency'))).toEqual([]);
  expect(r.final).toBe('403 Forbidden');
}

describe('the shipped FastAGI dialplan: an emergency number with no guard answering', () => {
  it('guard down + 911: dialled, reason emergency, no call id, the emergency limit, and a WARNING', async () => {
    const r = await dialOut('911', { DIALGUARD_AGI: refused.url });
    expect(r.agi.map((a) => a.status)).toEqual(['FAILURE']);
    expectEmergencyBypass(r, '911');
  });

  it('guard down + 0044…: denied with guard_error, as before', async () => {
    expectGuardError(await dialOut(LONDON, { DIALGUARD_AGI: refused.url }));
  });

  it('the deadline’s T + 911: dialled', async () => {
    const r = await dialOut('911', { DIALGUARD_AGI: mute.url, DIALGUARD_DEADLINE: '1' });
    expect(r.agi.map((a) => a.status)).toEqual(['HANGUP']);
    expect(r.executed).toContain('T@dialguard-authorize:1');
    expectEmergencyBypass(r, '911');
  });

  it('a guard that closes with nothing set + 112: dialled', async () => {
    const r = await dialOut('112', { DIALGUARD_AGI: closing.url });
    expect(r.agi.map((a) => a.status)).toEqual(['SUCCESS']);
    expectEmergencyBypass(r, '112');
  });

  it('with DIALGUARD_FAIL_OPEN=yes an emergency call keeps its reason and limit', async () => {
    expectEmergencyBypass(await dialOut('911', { DIALGUARD_AGI: refused.url, DIALGUARD_FAIL_OPEN: 'yes' }), '911');
  });

  it('the guard answers DENY for 911: the DENY stands', async () => {
    const r = await dialOut('911', { DIALGUARD_AGI: denying.url });
    expect(r.variables).toMatchObject({ DIALGUARD_RESULT: 'DENY', DIALGUARD_REASON: 'destination_country_denied' });
    expect(r.dials).toEqual([]);
    expect(r.warnings).toEqual([]);
    expect(r.final).toBe('403 Forbidden');
  });

  it('dialguard answering for 911: its own emergency decision, with a call id to settle; the dialplan adds nothing', async () => {
    const r = await dialOut('911', { DIALGUARD_AGI: real.url });
    expect(r.variables).toMatchObject({ DIALGUARD_RESULT: 'ALLOW', DIALGUARD_REASON: 'emergency', DIALGUARD_LIMIT_MS: EMERGENCY_LIMIT_MS });
    expect(r.variables.DIALGUARD_CALL_ID).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(r.handlers.map((h) => h.location)).toEqual(['dialguard-hangup,s,1']);
    expect(r.warnings).toEqual([]);
  });

  it.each(['9110', '0911', '1911', '91', '9911', '1112'])('%s is not an emergency number: denied with guard_error', async (number) => {
    expectGuardError(await dialOut(number, { DIALGUARD_AGI: refused.url }));
  });

  it.each([
    ['9911', true],
    ['9112', true],
    ['911', true],
    ['99911', false],
  ] as const)('a site whose phones dial 9 first (9?(911|112)): %s dialled without the guard: %s', async (number, bypass) => {
    const r = await dialOut(number, { DIALGUARD_AGI: refused.url, DIALGUARD_EMERGENCY: '9?(911|112)' });
    if (bypass) expectEmergencyBypass(r, number);
    else expectGuardError(r);
  });

  it('empty DIALGUARD_EMERGENCY: no bypass, and REGEX() is not asked (an empty group is undefined in POSIX)', async () => {
    const r = await dialOut('911', { DIALGUARD_AGI: refused.url, DIALGUARD_EMERGENCY: '' });
    expectGuardError(r);
    expect(r.log.filter((l) => l.includes('?emergency'))).toEqual([]);
  });

  it("ships dialguard's own emergency numbers for its default home country, and the limit dialguard grants them", async () => {
    const numbers = [...emergencyNumbers(DEFAULTS.homeCountry)];
    expect(numbers.length).toBeGreaterThan(0);
    for (const number of numbers) expectEmergencyBypass(await dialOut(number, { DIALGUARD_AGI: refused.url }), number);
    expect(FASTAGI.globals.get('DIALGUARD_EMERGENCY_LIMIT_MS')).toBe(EMERGENCY_LIMIT_MS);
    for (const name of ['DIALGUARD_EMERGENCY', 'DIALGUARD_EMERGENCY_LIMIT_MS']) expect(ARI.globals.get(name), name).toBe(FASTAGI.globals.get(name));
  });
});

describe('the shipped ARI dialplan: an emergency number with no guard answering', () => {
  const ariOut = (ari: AsteriskAri, exten: string, globals: Record<string, string> = {}) => call(ARI, 'dialguard-outbound-ari', exten, globals, { ari });

  it('no app connected (STASISSTATUS=FAILED) + 911: dialled', async () => {
    const r = await ariOut(lonelyAsterisk, '911');
    expect(r.stasis.map((s) => s.status)).toEqual(['FAILED']);
    expectEmergencyBypass(r, '911', 'dialguard-authorize-ari');
  });

  it('an app that never answers: the deadline’s T + 911: dialled', async () => {
    const r = await ariOut(silentAsterisk, '911', { DIALGUARD_DEADLINE: '1' });
    expect(r.stasis[0]?.exit).toBe('timeout');
    expect(r.executed).toContain('T@dialguard-authorize-ari:1');
    expectEmergencyBypass(r, '911', 'dialguard-authorize-ari');
  });

  it('the app answers DENY for 911: the DENY stands', async () => {
    const seen = silentApp.messages.length;
    const pending = ariOut(silentAsterisk, '911');
    await vi.waitFor(() => expect(silentApp.messages.length).toBeGreaterThan(seen));
    const id = silentAsterisk.channels.at(-1)?.id as string;
    const post = (path: string) => fetch(`${silentAsterisk.url}/ari/channels/${id}/${path}`, { method: 'POST', headers: AUTH });
    expect((await post('variable?variable=DIALGUARD_RESULT&value=DENY')).status).toBe(204);
    expect((await post('continue')).status).toBe(204);
    const r = await pending;
    expect(r.variables.DIALGUARD_RESULT).toBe('DENY');
    expect(r.dials).toEqual([]);
    expect(r.warnings).toEqual([]);
    expect(r.final).toBe('403 Forbidden');
  });
});
