import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AgiSession, type AgiSessionOptions } from '../../src/agi/session.js';
import { DialguardError } from '../../src/errors.js';
import { authorizeEnv, playAsteriskSession, type AsteriskTranscript, type PlayAsteriskOptions } from '../support/asterisk-agi.js';
import { closed, connect, listen, type Listener } from './wire.js';

const env = authorizeEnv({ ext: '1001', number: '0044207946000', source: '127.0.0.2:5060', origin: 'phone' });
const envText = `${env.map(([name, value]) => `${name}: ${value}\n`).join('')}\n`;

let listener: Listener | undefined;
afterEach(async () => {
  await listener?.close();
  listener = undefined;
});

/** Accepts one connection as an AgiSession; `accepted` rejects like AgiSession.accept(). */
async function acceptOne(options: AgiSessionOptions = {}): Promise<{ port: number; accepted: Promise<AgiSession> }> {
  let deliver: (socket: Socket) => void = () => undefined;
  const socket = new Promise<Socket>((resolve) => (deliver = resolve));
  listener = await listen((s) => deliver(s));
  return { port: listener.port, accepted: socket.then((s) => AgiSession.accept(s, options)) };
}

/** A session with the Asterisk double on the other end. */
async function withAsterisk(
  double: Omit<PlayAsteriskOptions, 'port' | 'env'> = {},
  options: AgiSessionOptions = {},
): Promise<{ session: AgiSession; played: Promise<AsteriskTranscript> }> {
  const { port, accepted } = await acceptOne(options);
  const played = playAsteriskSession({ env, port, ...double });
  return { session: await accepted, played };
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (err) {
    return err instanceof DialguardError ? err.code : `not a DialguardError: ${String(err)}`;
  }
  return undefined;
}

describe('AgiSession', () => {
  it('reads the environment, sets variables and closes the way Asterisk expects (FIN, then its HANGUP)', async () => {
    const { session, played } = await withAsterisk();
    expect(session.env.path).toBe('authorize');
    expect(session.env.args).toEqual(['1001', '0044207946000', '127.0.0.2:5060', 'phone']);
    expect(await session.setVariable('DIALGUARD_RESULT', 'DENY')).toEqual({ code: 200, result: '1' });
    expect(await session.verbose('dialguard: denied')).toEqual({ code: 200, result: '1' });
    expect(await session.command('NOOP\n')).toEqual({ code: 200, result: '0' });
    expect(session.hungUp).toBe(false);
    await session.close();
    const transcript = await played;
    expect(transcript).toMatchObject({ end: 'server-fin', hangupsSent: 1, violations: [] });
    expect(transcript.variables.get('DIALGUARD_RESULT')).toBe('DENY');
    expect(session.hungUp).toBe(true);
    expect(session.closed).toBe(true);
  });

  it('sends commands one at a time even when they are issued together (no pipelining)', async () => {
    const { session, played } = await withAsterisk({ replyDelayMs: 15 });
    const names = ['RESULT', 'REASON', 'MESSAGE', 'LIMIT_MS', 'CALL_ID', 'E164', 'COUNTRY'];
    const replies = await Promise.all(names.map((n) => session.setVariable(`DIALGUARD_${n}`, `v ${n}`)));
    expect(replies.every((r) => r.result === '1')).toBe(true);
    await session.close();
    const transcript = await played;
    expect(transcript.violations).toEqual([]);
    expect(transcript.commands.map((c) => c.args[2])).toEqual(names.map((n) => `DIALGUARD_${n}`));
    for (let i = 1; i < transcript.commands.length; i++) {
      expect(transcript.commands[i]?.receivedAtMs).toBeGreaterThanOrEqual(transcript.commands[i - 1]?.repliedAtMs ?? Infinity);
    }
  });

  it('records an unsolicited HANGUP without taking it for a reply, and dead-safe commands still work', async () => {
    const { session, played } = await withAsterisk({ hangupAfterMs: 10 });
    await new Promise<void>((resolve) => session.once('hangup', resolve));
    expect(session.hungUp).toBe(true);
    expect(await session.setVariable('DIALGUARD_RESULT', 'DENY')).toEqual({ code: 200, result: '1' });
    expect(await session.command('ANSWER\n')).toEqual({
      code: 511,
      message: 'Command Not Permitted on a dead channel or intercept routine',
      usage: [],
    });
    await session.close();
    expect((await played).hangupsSent).toBe(2);
  });

  it('rejects a command with DG_AGI_TIMEOUT when Asterisk does not answer, drops the queue and closes', async () => {
    const { session, played } = await withAsterisk({ replies: (line, asterisk) => (line === 'NOOP' ? null : asterisk.defaultReply()) }, { closeGraceMs: 100 });
    const stuck = session.command('NOOP\n', { timeoutMs: 80 });
    const queued = session.setVariable('DIALGUARD_RESULT', 'DENY');
    expect(await codeOf(stuck)).toBe('DG_AGI_TIMEOUT');
    expect(await codeOf(queued)).toBe('DG_AGI_CLOSED');
    await session.close();
    const transcript = await played;
    // The queued command was never written; the stuck peer never closed, so the grace destroyed it.
    expect(transcript.commands.map((c) => c.line)).toEqual(['NOOP']);
    expect(transcript.hangupsSent).toBe(0);
    expect(session.closed).toBe(true);
  });

  it('gives each command its whole timeout, counted from when it is sent', async () => {
    // Each reply takes 60 % of the timeout: one timer for the whole session would fire during the second.
    const { session, played } = await withAsterisk({ replyDelayMs: 300 }, { commandTimeoutMs: 500 });
    await session.setVariable('DIALGUARD_REASON', 'allowed');
    await session.setVariable('DIALGUARD_RESULT', 'ALLOW');
    await session.close();
    expect((await played).variables.get('DIALGUARD_RESULT')).toBe('ALLOW');
  });

  it('rejects the pending and queued commands with DG_AGI_CLOSED when the connection drops', async () => {
    const { port, accepted } = await acceptOne();
    const peer = await connect(port);
    peer.write(envText);
    peer.on('data', () => peer.destroy());
    const session = await accepted;
    const results = await Promise.all([
      codeOf(session.command('NOOP\n')),
      codeOf(session.setVariable('A', '1')),
      codeOf(session.verbose('x')),
    ]);
    expect(results).toEqual(['DG_AGI_CLOSED', 'DG_AGI_CLOSED', 'DG_AGI_CLOSED']);
    expect(await codeOf(session.command('NOOP\n'))).toBe('DG_AGI_CLOSED');
  });

  it('after AGIEXITONHANGUP closed the connection, commands fail at once', async () => {
    const { session, played } = await withAsterisk({ hangupAfterMs: 10, exitOnHangup: true });
    await played;
    await session.close();
    expect(session.hungUp).toBe(true);
    expect(await codeOf(session.setVariable('DIALGUARD_RESULT', 'DENY'))).toBe('DG_AGI_CLOSED');
  });

  it('rejects setVariable with DG_AGI_REJECTED when Asterisk answers 520 (the variable is not set)', async () => {
    const usage = '520-Invalid command syntax.  Proper usage follows:\nSets a variable to the current channel.\n520 End of proper usage.';
    const { session, played } = await withAsterisk({ replies: () => usage });
    const err = await session.setVariable('DIALGUARD_RESULT', 'ALLOW').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DialguardError);
    expect(err).toMatchObject({ code: 'DG_AGI_REJECTED', details: { code: 520, usage: ['Sets a variable to the current channel.'] } });
    expect(session.usable).toBe(true);
    await session.close();
    await played;
  });

  it('refuses to send a line that Asterisk would split into two commands or store a CR from', async () => {
    const { session, played } = await withAsterisk();
    for (const line of ['NOOP', 'NOOP\nNOOP\n', 'NOOP\r\n', 'SET VARIABLE A "x\ny"\n']) {
      expect(await codeOf(session.command(line)), JSON.stringify(line)).toBe('DG_AGI_BAD_COMMAND');
    }
    expect(await codeOf(session.setVariable('BAD NAME', 'x'))).toBe('DG_AGI_BAD_COMMAND');
    await session.close();
    expect((await played).commands).toEqual([]);
  });

  it('cuts off a peer that never finishes the environment (DG_AGI_ENV_TIMEOUT)', async () => {
    const { port, accepted } = await acceptOne({ envTimeoutMs: 100 });
    const peer = await connect(port);
    peer.write('agi_network: yes\nagi_network_script: authorize\n');
    const started = Date.now();
    expect(await codeOf(accepted)).toBe('DG_AGI_ENV_TIMEOUT');
    await closed(peer);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('cuts off a peer that sends something else than an AGI environment', async () => {
    const { port, accepted } = await acceptOne();
    const peer = await connect(port);
    peer.on('error', () => undefined);
    peer.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(await codeOf(accepted)).toBe('DG_AGI_PROTOCOL');
    await closed(peer);
  });

  it('closes a session that stays idle', async () => {
    const { session, played } = await withAsterisk({}, { idleTimeoutMs: 100 });
    await new Promise<void>((resolve) => session.once('close', resolve));
    expect((await played).end).toBe('server-fin');
  });

  it('destroys the connection when Asterisk does not close after our FIN', async () => {
    const { port, accepted } = await acceptOne({ closeGraceMs: 100 });
    const peer = await connect(port, { allowHalfOpen: true });
    peer.write(envText);
    const session = await accepted;
    const started = Date.now();
    await session.close();
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    expect(session.closed).toBe(true);
    peer.destroy();
  });

  it('treats a reply that no command asked for as a broken peer', async () => {
    const { port, accepted } = await acceptOne({ idleTimeoutMs: 0 });
    const peer = await connect(port);
    peer.write(envText);
    const session = await accepted;
    peer.write('200 result=1\n');
    await new Promise<void>((resolve) => session.once('close', resolve));
    expect(session.usable).toBe(false);
  });
});
