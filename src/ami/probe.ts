/**
 * One AMI login and logoff, for `dialguard doctor`: proves that the address answers as AMI and
 * accepts the user and secret, with one timeout for the whole exchange. It asks for no events.
 */
import net from 'node:net';
import type { AmiConfig } from '../config/config.js';
import { causeText } from '../errors.js';
import { AmiStreamReader, formatAction, logoffAction } from './protocol.js';

export type AmiProbeResult =
  | { ok: true; banner: string }
  | { ok: false; reason: 'unreachable' | 'not_ami' | 'refused' | 'timeout'; detail: string };

export function probeAmi(ami: AmiConfig, timeoutMs: number): Promise<AmiProbeResult> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: ami.host, port: ami.port });
    const reader = new AmiStreamReader();
    let banner = '';
    let settled = false;
    const done = (result: AmiProbeResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (result.ok) socket.end(logoffAction('dialguard-doctor-logoff'));
      else socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(
      () => done({ ok: false, reason: 'timeout', detail: banner ? `no answer to Login within ${timeoutMs} ms` : `no AMI banner within ${timeoutMs} ms` }),
      timeoutMs,
    );
    socket.on('error', (err) => done({ ok: false, reason: 'unreachable', detail: causeText(err) }));
    socket.on('close', () => done({ ok: false, reason: 'unreachable', detail: 'closed the connection' }));
    socket.on('data', (chunk: Buffer) => {
      let parsed;
      try {
        parsed = reader.push(chunk);
      } catch {
        done({ ok: false, reason: 'not_ami', detail: 'answered, but not with an AMI banner' });
        return;
      }
      if (parsed.banner !== undefined) {
        banner = parsed.banner;
        socket.write(
          formatAction('Login', [
            ['ActionID', 'dialguard-doctor-login'],
            ['Username', ami.user],
            ['Secret', ami.secret],
            ['Events', 'off'],
          ]),
        );
      }
      const answer = parsed.blocks.find((b) => b.kind === 'response');
      if (answer?.kind !== 'response') return;
      if (answer.fields.get('Response') === 'Success') done({ ok: true, banner });
      else done({ ok: false, reason: 'refused', detail: answer.fields.get('Message') ?? 'Error' });
    });
  });
}
