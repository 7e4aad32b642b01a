import { afterEach, describe, expect, it } from 'vitest';
import { retryDelay, startAmiClient, type AmiClient, type AmiClientOptions, type AmiUnparsed } from '../../src/ami/client.js';
import type { AmiFields } from '../../src/ami/protocol.js';
import { securityEventFromFields } from '../../src/security/event-fields.js';
import { memoryLogger } from '../agi/memory-logger.js';
import { until } from '../ari/fixture.js';
import { amiCaptureBlocks } from '../support/security-captures.js';
import { captureEventBlocks, startAsteriskAmi, type AsteriskAmi } from '../support/asterisk-ami.js';

const USER = 'dgsec';
const SECRET = 'dg-Secr3t:with@odd/chars%';

const capturedEvents = amiCaptureBlocks().filter((b) => b.Event !== undefined);

interface Harness {
  client: AmiClient;
  events: Array<{ name: string; fields: AmiFields }>;
  unparsed: AmiUnparsed[];
  records: ReturnType<typeof memoryLogger>['records'];
}

let asterisk: AsteriskAmi | undefined;
let client: AmiClient | undefined;

afterEach(async () => {
  await client?.close();
  await asterisk?.close();
  client = undefined;
  asterisk = undefined;
});

function connect(ami: AsteriskAmi, overrides: Partial<AmiClientOptions> = {}): Harness {
  const { logger, records } = memoryLogger();
  const events: Harness['events'] = [];
  const unparsed: AmiUnparsed[] = [];
  client = startAmiClient({
    host: '127.0.0.1',
    port: ami.port,
    user: USER,
    secret: SECRET,
    logger,
    onEvent: (name, fields) => events.push({ name, fields }),
    onUnparsed: (reason) => unparsed.push(reason),
    retryDelayMs: 50,
    maxRetryDelayMs: 400,
    ...overrides,
  });
  return { client, events, unparsed, records };
}

describe('AMI client against the replaying double', () => {
  it('logs in asking for security events and yields the 85 captured events, mapped to SecurityEvents', async () => {
    asterisk = await startAsteriskAmi({ user: USER, secret: SECRET });
    const h = connect(asterisk);
    await until(() => h.events.length === capturedEvents.length, 5000, 'the 85 events');
    expect(h.client.connected).toBe(true);
    expect(h.client.state).toBe('connected');

    const [login] = asterisk.logins;
    expect(login?.fields.get('events')).toBe('security');
    expect(login?.fields.get('username')).toBe(USER);
    expect(login?.fields.get('actionid')).toMatch(/\S/);

    expect(h.events.map((e) => e.name)).toEqual(capturedEvents.map((b) => b.Event));
    expect(h.events.map((e) => Object.fromEntries(e.fields))).toEqual(capturedEvents);
    const security = h.events.map((e) => securityEventFromFields(Object.fromEntries(e.fields), Date.now())).filter((e) => e !== null);
    const count = (kind: string): number => security.filter((e) => e.kind === kind).length;
    expect(count('invalid_account')).toBe(capturedEvents.filter((b) => b.Event === 'InvalidAccountID').length);
    expect(count('failed_auth')).toBe(capturedEvents.filter((b) => b.Event === 'ChallengeResponseFailed' || b.Event === 'InvalidPassword').length);
    expect(security.filter((e) => e.kind === 'successful_auth').map((e) => [e.account, e.address])).toEqual([
      ['dgsec', '127.0.0.1'],
      ['1001', '127.0.0.6'],
      ['1001', '127.0.0.6'],
      ['1001', '127.0.0.6'],
    ]);
    expect(security.filter((e) => e.kind === 'failed_auth' && e.service === 'AMI')).toEqual([
      expect.objectContaining({ account: 'dgsec', address: '127.0.0.1', detail: 'InvalidPassword' }),
    ]);
    expect(h.unparsed).toEqual([]);
    expect(h.records.find((r) => r.msg === 'AMI connected')).toMatchObject({ ami: `tcp://${USER}@127.0.0.1:${asterisk.port}` });
  });

  it('reconnects after Asterisk restarts, logging the loss with the delay, and reads the events again', async () => {
    asterisk = await startAsteriskAmi({ user: USER, secret: SECRET });
    const h = connect(asterisk);
    await until(() => h.events.length === capturedEvents.length, 5000, 'the first replay');
    await asterisk.stop();
    await until(() => !h.client.connected, 5000, 'the loss');
    await asterisk.start();
    await until(() => h.events.length === 2 * capturedEvents.length, 5000, 'the second replay');
    expect(h.client.connected).toBe(true);
    expect(asterisk.logins.length).toBe(2);
    const lost = h.records.find((r) => typeof r.msg === 'string' && r.msg.startsWith('AMI connection lost; reconnecting in '));
    expect(lost).toMatchObject({ level: 40, code: 'DG_AMI_CLOSED', reason: 'Asterisk closed the AMI connection' });
    // A connection that had logged in starts the backoff afresh: the first wait is the base one (50 ms, jittered).
    expect(lost?.retryInMs).toBeLessThanOrEqual(50);
    expect(h.records.filter((r) => r.msg === 'AMI connected').length).toBe(2);
  });

  it('drops a malformed block and an oversize one, counts them, and delivers every event around them', async () => {
    const blocks = captureEventBlocks();
    const garbage = Buffer.from('Event PeerStatus without a colon\r\n\r\n');
    const huge = Buffer.from(`Event: UserEvent\r\nData: ${'z'.repeat(70 * 1024)}\r\n\r\n`);
    asterisk = await startAsteriskAmi({ user: USER, secret: SECRET, afterLogin: () => [...blocks.slice(0, 10), garbage, huge, ...blocks.slice(10)] });
    const h = connect(asterisk);
    await until(() => h.events.length === capturedEvents.length, 5000, 'the events after the bad blocks');
    expect(h.unparsed).toEqual(['malformed', 'oversize']);
    expect(h.events.map((e) => Object.fromEntries(e.fields))).toEqual(capturedEvents);
    expect(h.client.connected).toBe(true);
  });

  it('goes on after an event handler throws', async () => {
    asterisk = await startAsteriskAmi({ user: USER, secret: SECRET });
    let seen = 0;
    const h = connect(asterisk, {
      onEvent: () => {
        seen++;
        if (seen === 3) throw new Error('sink bug');
      },
    });
    await until(() => seen === capturedEvents.length, 5000, 'every event');
    expect(h.records.filter((r) => r.msg === 'AMI event handler failed; the feed goes on').length).toBe(1);
  });

  it('retries a refused login with growing delays and never logs the secret', async () => {
    asterisk = await startAsteriskAmi({ user: USER, secret: 'the-real-one', badLoginDelayMs: 100 });
    const h = connect(asterisk, { random: () => 0.999 });
    await until(() => asterisk !== undefined && asterisk.logins.length >= 4, 10_000, 'four login attempts');
    expect(h.client.connected).toBe(false);
    const retries = h.records.filter((r) => typeof r.msg === 'string' && r.msg.startsWith('AMI connection failed; reconnecting in '));
    expect(retries.slice(0, 3).map((r) => r.retryInMs)).toEqual([50, 100, 200]);
    expect(retries[0]).toMatchObject({ level: 40, code: 'DG_AMI_LOGIN_REFUSED', reason: 'AMI login refused: Authentication failed', ami: `tcp://${USER}@127.0.0.1:${asterisk.port}` });
    // The same failure again is not a new warning.
    expect(retries.slice(1).every((r) => r.level === 20)).toBe(true);
    expect(asterisk.logins.every((l) => l.fields.get('secret') === SECRET)).toBe(true);
    const logged = JSON.stringify(h.records);
    for (const form of [SECRET, encodeURIComponent(SECRET), Buffer.from(SECRET).toString('base64')]) expect(logged).not.toContain(form);
  });

  it('gives up a login Asterisk never answers, and a peer that sends no banner', async () => {
    asterisk = await startAsteriskAmi({ user: USER, secret: 'other', badLoginDelayMs: 60_000 });
    const h = connect(asterisk, { loginTimeoutMs: 200 });
    await until(() => h.records.some((r) => r.code === 'DG_AMI_LOGIN_TIMEOUT'), 5000, 'the login timeout');
    await client?.close();

    const net = await import('node:net');
    const silent = net.createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    const port = address && typeof address === 'object' ? address.port : 0;
    const h2 = connect({ port } as AsteriskAmi, { connectTimeoutMs: 200 });
    await until(() => h2.records.some((r) => r.code === 'DG_AMI_CONNECT_TIMEOUT'), 5000, 'the connect timeout');
    await client?.close();
    silent.close();
  });

  it('sends a Ping when quiet and stays connected while it is answered; logs off on close', async () => {
    asterisk = await startAsteriskAmi({ user: USER, secret: SECRET, afterLogin: () => [] });
    const h = connect(asterisk, { pingIntervalMs: 50, pingTimeoutMs: 1000 });
    await until(() => asterisk !== undefined && asterisk.actions.filter((a) => a.fields.get('action') === 'Ping').length >= 3, 5000, 'three pings');
    expect(h.client.connected).toBe(true);
    expect(asterisk.connections).toBe(1);
    await h.client.close();
    expect(h.client.state).toBe('closed');
    expect(asterisk.actions.at(-1)?.fields.get('action')).toBe('Logoff');
  });

  it('reconnects when a Ping goes unanswered', async () => {
    const net = await import('node:net');
    // Answers the login, then ignores everything: a half-dead peer.
    const { captureParts } = await import('../support/asterisk-ami.js');
    const parts = captureParts();
    let accepted = 0;
    const mute = net.createServer((socket) => {
      accepted++;
      socket.write(parts.banner);
      socket.once('data', () => socket.write(Buffer.from(parts.login.toString().replace(/^ActionID: .*\r\n/m, ''))));
      socket.on('error', () => socket.destroy());
    });
    await new Promise<void>((resolve) => mute.listen(0, '127.0.0.1', resolve));
    const address = mute.address();
    const port = address && typeof address === 'object' ? address.port : 0;
    const h = connect({ port } as AsteriskAmi, { pingIntervalMs: 50, pingTimeoutMs: 100 });
    await until(() => h.records.some((r) => r.code === 'DG_AMI_PING_TIMEOUT'), 5000, 'the ping timeout');
    await until(() => accepted >= 2, 5000, 'a new connection');
    await client?.close();
    client = undefined;
    await new Promise<void>((resolve) => mute.close(() => resolve()));
  });
});

describe('retry delay', () => {
  it('doubles from the base up to the cap, with jitter between half and all of it', () => {
    expect([0, 1, 2, 3, 10].map((n) => retryDelay(n, 1000, 60_000, () => 0.999999))).toEqual([1000, 2000, 4000, 8000, 60_000]);
    expect([0, 1, 10].map((n) => retryDelay(n, 1000, 60_000, () => 0))).toEqual([500, 1000, 30_000]);
    expect(retryDelay(5000, 1000, 60_000, () => 0.5)).toBe(45_000);
  });
});
