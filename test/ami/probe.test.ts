import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { probeAmi } from '../../src/ami/probe.js';
import { startAsteriskAmi, type AsteriskAmi } from '../support/asterisk-ami.js';

let asterisk: AsteriskAmi | undefined;
let other: net.Server | undefined;
afterEach(async () => {
  await asterisk?.close();
  if (other) await new Promise((done) => other?.close(done));
  asterisk = other = undefined;
});

async function listen(onConnection: (socket: net.Socket) => void): Promise<number> {
  other = net.createServer(onConnection);
  await new Promise<void>((resolve) => other?.listen(0, '127.0.0.1', resolve));
  return (other.address() as net.AddressInfo).port;
}

const config = (port: number, secret = 'dgsecret') => ({ host: '127.0.0.1', port, user: 'dgsec', secret });

describe('AMI probe (dialguard doctor)', () => {
  it('logs in asking for no events, then logs off', async () => {
    asterisk = await startAsteriskAmi({ user: 'dgsec', secret: 'dgsecret' });
    expect(await probeAmi(config(asterisk.port), 3000)).toEqual({ ok: true, banner: 'Asterisk Call Manager/11.0.0' });
    expect(asterisk.logins[0]?.fields.get('events')).toBe('off');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(asterisk.actions.at(-1)?.fields.get('action')).toBe('Logoff');
  });

  it('reports a refused login with Asterisk\'s message', async () => {
    asterisk = await startAsteriskAmi({ user: 'dgsec', secret: 'dgsecret', badLoginDelayMs: 50 });
    expect(await probeAmi(config(asterisk.port, 'wrong'), 3000)).toEqual({ ok: false, reason: 'refused', detail: 'Authentication failed' });
  });

  it('tells a port that is not AMI, one that is closed, and one that never answers', async () => {
    const http = await listen((socket) => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    expect(await probeAmi(config(http), 3000)).toMatchObject({ ok: false, reason: 'not_ami' });
    await new Promise((done) => other?.close(done));
    expect(await probeAmi(config(http), 3000)).toMatchObject({ ok: false, reason: 'unreachable', detail: expect.stringContaining('ECONNREFUSED') });
    const silent = await listen(() => {});
    expect(await probeAmi(config(silent), 200)).toEqual({ ok: false, reason: 'timeout', detail: 'no AMI banner within 200 ms' });
  });
});
