import { afterEach, describe, expect, it } from 'vitest';
import type { DecisionQueue } from '../../src/guard/decision-queue.js';
import { DIALGUARD_VARIABLES, LAN, leaves, sleep, startAriFixture, until, type AriFixture, type FixtureOptions } from './fixture.js';

/**
 * dialguard's Stasis app served by the ARI double as Asterisk 22 serves it: the dialplan runs
 * `Stasis(dialguard,authorize,EXT,NUMBER,SOURCE,ORIGIN)` and reads the seven variables once the
 * app continues the channel.
 */
let fx: AriFixture | undefined;

afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

async function start(options: FixtureOptions = {}): Promise<AriFixture> {
  fx = await startAriFixture(options);
  return fx;
}

const authorize = (f: AriFixture, ext: string, number: string, source = LAN, origin = 'phone') =>
  f.asterisk.stasis(['authorize', ext, number, source, origin]);

describe('Stasis(dialguard,authorize,…)', () => {
  it('allows a call to London: sets the seven variables, DIALGUARD_RESULT last, then continues', async () => {
    const f = await start();
    const channel = authorize(f, '1001', '011442079460000');
    expect(await leaves(channel)).toBe('continued');
    expect(channel.vars()).toMatchObject({
      DIALGUARD_RESULT: 'ALLOW',
      DIALGUARD_REASON: 'allowed',
      DIALGUARD_MESSAGE: 'Call to United Kingdom allowed, limit 60 min',
      DIALGUARD_LIMIT_MS: '3600000',
      DIALGUARD_E164: '+442079460000',
      DIALGUARD_COUNTRY: 'GB',
    });
    expect(channel.vars().DIALGUARD_CALL_ID).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(channel.operations.map((o) => (o.op === 'set' ? o.variable : o.op))).toEqual([...DIALGUARD_VARIABLES, 'continue']);
    expect(channel.operations.every((o) => o.status === 204)).toBe(true);
  });

  it('decides on the same core path as FastAGI: audited with transport ari and the channel named', async () => {
    const f = await start();
    const channel = authorize(f, '1001', '13125550123');
    await leaves(channel);
    const decision = await f.db.store.getDecision(channel.vars().DIALGUARD_CALL_ID as string);
    expect(decision).toMatchObject({ transport: 'ari', extension: '1001', dialled: '13125550123', sourceAddress: LAN, origin: 'phone', result: 'ALLOW' });
    expect(decision?.meta).toMatchObject({ channel: channel.name, uniqueid: channel.id });
    expect((await f.db.store.getReservation(decision?.callId as string))?.status).toBe('active');
    expect(f.observer.decisions).toEqual([{ result: 'ALLOW', reason: 'allowed', transport: 'ari' }]);
    expect(f.logs.messages('decision')[0]).toMatchObject({ channel: channel.name, uniqueid: channel.id, result: 'ALLOW', e164: '+13125550123' });
  });

  it.each([
    ['a Jamaican number from a US site', '1001', '18765551234', LAN, 'phone', 'destination_country_denied'],
    ['a premium 1-900 number', '1001', '19002345678', LAN, 'phone', 'destination_type_denied'],
    ['a caller registered from Germany', '1001', '13125550123', '80.128.0.1:5060', 'phone', 'source_country_denied'],
    ['a voicemail dial-out', '1001', '13125550123', LAN, 'voicemail', 'voicemail_callout_denied'],
  ])('denies %s and still continues the channel', async (_name, ext, number, source, origin, reason) => {
    const f = await start();
    const channel = authorize(f, ext, number, source, origin);
    expect(await leaves(channel)).toBe('continued');
    expect(channel.vars()).toMatchObject({ DIALGUARD_RESULT: 'DENY', DIALGUARD_REASON: reason, DIALGUARD_LIMIT_MS: '0' });
    expect(channel.continues).toBe(1);
  });

  it('names the caller when the dialplan passes no extension', async () => {
    const f = await start();
    const channel = f.asterisk.stasis(['authorize', '', '13125550123', LAN, ''], { caller: '1001' });
    await leaves(channel);
    const decision = await f.db.store.getDecision(channel.vars().DIALGUARD_CALL_ID as string);
    expect(decision).toMatchObject({ extension: '1001', origin: 'phone', result: 'ALLOW' });
  });

  it.each([
    ['a misspelt command', ['authorise', '1001', '13125550123', LAN, 'phone']],
    ['no argument at all', []],
  ])('answers %s with DENY guard_error and continues', async (_name, args) => {
    const f = await start();
    const channel = f.asterisk.stasis(args);
    expect(await leaves(channel)).toBe('continued');
    expect(channel.vars()).toMatchObject({ DIALGUARD_RESULT: 'DENY', DIALGUARD_REASON: 'guard_error', DIALGUARD_LIMIT_MS: '0', DIALGUARD_CALL_ID: '' });
    expect(f.observer.errors).toEqual(['DG_ARI_UNKNOWN_COMMAND']);
    expect(f.observer.guardErrors).toEqual(['ari']);
  });

  it('answers guard_error when the store cannot decide, and continues', async () => {
    const failing = (): DecisionQueue => ({ authorize: () => Promise.reject(Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' })) });
    const f = await start({ decisions: failing });
    const channel = authorize(f, '1001', '13125550123');
    expect(await leaves(channel)).toBe('continued');
    expect(channel.vars()).toMatchObject({ DIALGUARD_RESULT: 'DENY', DIALGUARD_REASON: 'guard_error' });
    expect(f.observer.errors).toEqual(['DG_INTERNAL']);
    expect(f.observer.guardErrors).toEqual(['ari']);
  });
});

describe('the answer deadline (Asterisk waits in Stasis forever for a silent app)', () => {
  it('continues the channel with DENY guard_error when no decision comes in time', async () => {
    const never = (): DecisionQueue => ({ authorize: () => new Promise(() => undefined) });
    const f = await start({ decisions: never, app: { answerDeadlineMs: 100 } });
    const started = Date.now();
    const channel = authorize(f, '1001', '13125550123');
    expect(await leaves(channel)).toBe('continued');
    expect(Date.now() - started).toBeLessThan(1000);
    expect(channel.vars()).toMatchObject({ DIALGUARD_RESULT: 'DENY', DIALGUARD_REASON: 'guard_error', DIALGUARD_LIMIT_MS: '0' });
    expect(f.observer.errors).toEqual(['DG_DEADLINE']);
    expect(f.observer.guardErrors).toEqual(['ari']);
  });

  it('audits a decision that comes late, and gives its reservation back: the channel was told guard_error', async () => {
    const late = (real: DecisionQueue): DecisionQueue => ({ authorize: (r) => sleep(300).then(() => real.authorize(r)) });
    const f = await start({ decisions: late, app: { answerDeadlineMs: 100 } });
    const channel = authorize(f, 'late-1', '13125550123');
    await leaves(channel);
    expect(channel.vars().DIALGUARD_REASON).toBe('guard_error');
    await until(async () => (await f.db.store.listDecisions({ ext: 'late-1' }, { limit: 5 })).length === 1, 2000, 'the late decision');
    const [decision] = await f.db.store.listDecisions({ ext: 'late-1' }, { limit: 5 });
    expect(decision?.result).toBe('ALLOW');
    await until(async () => (await f.db.store.getReservation(decision?.callId as string))?.status === 'settled', 2000, 'the release');
    expect(await f.db.store.getReservation(decision?.callId as string)).toMatchObject({ answeredSeconds: 0, dialStatus: 'NOT_DELIVERED', costMicros: 0 });
  });

  it('when Asterisk answers too slowly, continues without the remaining variables: the dialplan fails closed', async () => {
    const f = await start({ app: { answerDeadlineMs: 100, deliveryGraceMs: 100 } });
    f.asterisk.replyDelayMs = 150;
    const channel = authorize(f, 'slow-1', '13125550123');
    expect(await leaves(channel)).toBe('continued');
    expect(channel.vars().DIALGUARD_RESULT).toBeUndefined();
    expect(channel.continues).toBe(1);
    // The ALLOW never reached the dialplan: its reservation is not left to expire.
    const [decision] = await f.db.store.listDecisions({ ext: 'slow-1' }, { limit: 5 });
    expect(decision?.result).toBe('ALLOW');
    await until(async () => (await f.db.store.getReservation(decision?.callId as string))?.status === 'settled', 2000, 'the release');
  });
});

describe('a continue that fails', () => {
  it('is tried again: a channel left in Stasis would wait until its caller gives up', async () => {
    const f = await start();
    f.asterisk.failNext('continue', 500);
    const channel = authorize(f, '1001', '13125550123');
    expect(await leaves(channel)).toBe('continued');
    expect(channel.operations.filter((o) => o.op === 'continue').map((o) => o.status)).toEqual([500, 204]);
    expect(channel.vars().DIALGUARD_RESULT).toBe('ALLOW');
    expect(f.logs.messages('ARI channel operation failed')[0]).toMatchObject({ what: 'continue', reason: 'rejected', detail: 'Internal Server Error' });
  });
});

describe('a caller hanging up while the guard decides', () => {
  it('stops at the first 404, sends nothing more, audits the decision and releases its reservation', async () => {
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown): void => void rejections.push(reason);
    process.on('unhandledRejection', onRejection);
    try {
      const f = await start();
      f.asterisk.replyDelayMs = 40;
      const channel = authorize(f, 'hangup-1', '13125550123');
      await until(() => channel.operations.length >= 1, 2000, 'the first variable');
      f.asterisk.hangup(channel);
      await f.app.idle();
      await sleep(100);
      // In flight when the caller hung up: answered 404 "Channel not found"; then nothing.
      expect(channel.operations.filter((o) => o.status === 404).length).toBeLessThanOrEqual(1);
      expect(channel.operations.some((o) => o.op === 'continue')).toBe(false);
      expect(channel.vars().DIALGUARD_RESULT).toBeUndefined();
      const [decision] = await f.db.store.listDecisions({ ext: 'hangup-1' }, { limit: 5 });
      expect(decision).toMatchObject({ result: 'ALLOW', transport: 'ari' });
      expect(await f.db.store.getReservation(decision?.callId as string)).toMatchObject({ status: 'settled', dialStatus: 'CANCEL', costMicros: 0 });
      expect(rejections).toEqual([]);
    } finally {
      process.off('unhandledRejection', onRejection);
    }
  });

  it('sends nothing at all when the caller hangs up before the decision', async () => {
    const slow = (real: DecisionQueue): DecisionQueue => ({ authorize: (r) => sleep(100).then(() => real.authorize(r)) });
    const f = await start({ decisions: slow });
    const channel = authorize(f, 'hangup-2', '13125550123');
    await sleep(20);
    f.asterisk.hangup(channel);
    await f.app.idle();
    expect(channel.operations).toEqual([]);
    const [decision] = await f.db.store.listDecisions({ ext: 'hangup-2' }, { limit: 5 });
    expect((await f.db.store.getReservation(decision?.callId as string))?.dialStatus).toBe('CANCEL');
  });

  it('a channel gone between two requests only costs a 404: later channels are served as usual', async () => {
    const f = await start();
    const channel = authorize(f, 'hangup-3', '13125550123');
    f.asterisk.hangup(channel);
    await f.app.idle();
    const next = authorize(f, '1001', '13125550123');
    expect(await leaves(next)).toBe('continued');
    expect(next.vars().DIALGUARD_RESULT).toBe('ALLOW');
  });
});

describe('Stasis(dialguard,settle,CALL_ID,ANSWEREDTIME,DIALSTATUS)', () => {
  it('from a hangup handler (dead channel): settles from the arguments alone and sends nothing', async () => {
    const f = await start();
    const call = authorize(f, '1001', '011442079460000');
    await leaves(call);
    const callId = call.vars().DIALGUARD_CALL_ID as string;
    const before = f.asterisk.requests.length;

    const settle = f.asterisk.stasisOnDeadChannel(['settle', callId, '600', 'ANSWER']);
    await until(async () => (await f.db.store.getReservation(callId))?.status === 'settled', 2000, 'the settlement');
    await f.app.idle();
    expect(await f.db.store.getReservation(callId)).toMatchObject({ answeredSeconds: 600, dialStatus: 'ANSWER' });
    expect(f.observer.settlements).toEqual(['settled']);
    expect(settle.operations).toEqual([]);
    expect(f.asterisk.requests.slice(before)).toEqual([]);
  });

  it('on a live channel: settles, sets DIALGUARD_SETTLED, then continues', async () => {
    const f = await start();
    const call = authorize(f, '1001', '13125550123');
    await leaves(call);
    const callId = call.vars().DIALGUARD_CALL_ID as string;
    const settle = f.asterisk.stasis(['settle', callId, '', 'BUSY']);
    expect(await leaves(settle)).toBe('continued');
    expect(settle.vars()).toEqual({ DIALGUARD_SETTLED: `settled ${callId}` });
    expect(await f.db.store.getReservation(callId)).toMatchObject({ status: 'settled', answeredSeconds: 0, dialStatus: 'BUSY', costMicros: 0 });
  });

  it.each([
    ['1e308', 3602, 'ANSWEREDTIME longer than the granted limit: settlement clamped'],
    ['abc', 0, 'ANSWEREDTIME is not a number: settled as 0 s'],
    ['-5', 0, 'ANSWEREDTIME is negative: settled as 0 s'],
  ])('settles ANSWEREDTIME %j as %d seconds and logs a warning', async (answered, seconds, message) => {
    const f = await start();
    const call = authorize(f, '1001', '13125550123');
    await leaves(call);
    const callId = call.vars().DIALGUARD_CALL_ID as string;
    f.asterisk.stasisOnDeadChannel(['settle', callId, answered, 'ANSWER']);
    await until(async () => (await f.db.store.getReservation(callId))?.status === 'settled', 2000, 'the settlement');
    await f.app.idle();
    expect((await f.db.store.getReservation(callId))?.answeredSeconds).toBe(seconds);
    expect(f.logs.messages(message)).toMatchObject([{ level: 40, callId, reported: answered }]);
  });

  it('an unknown call id from a hangup handler is harmless', async () => {
    const f = await start();
    const settle = f.asterisk.stasisOnDeadChannel(['settle', 'NOPE', '', 'CANCEL']);
    await until(() => f.observer.settlements.length === 1, 2000, 'the settlement');
    await f.app.idle();
    expect(f.observer.settlements).toEqual(['unknown']);
    expect(settle.operations).toEqual([]);
  });
});

describe('many calls at once', () => {
  it('200 concurrent StasisStarts against maxConcurrent 5: exactly 5 ALLOWs, every channel continued', async () => {
    const f = await start({ app: { answerDeadlineMs: 10_000 } });
    const channels = Array.from({ length: 200 }, () => authorize(f, 'busy', '13125550123'));
    const ways = await Promise.all(channels.map((c) => leaves(c, 20_000)));
    expect(ways.every((w) => w === 'continued')).toBe(true);
    const results = channels.map((c) => c.vars());
    expect(results.filter((v) => v.DIALGUARD_RESULT === 'ALLOW')).toHaveLength(5);
    expect(results.filter((v) => v.DIALGUARD_REASON === 'budget_concurrency')).toHaveLength(195);
    expect(await f.db.store.activeReservations(new Date(), 'busy')).toHaveLength(5);
    expect(await f.db.store.listDecisions({ ext: 'busy' }, { limit: 500 })).toHaveLength(200);
    expect(channels.every((c) => c.continues === 1)).toBe(true);
  }, 30_000);
});
