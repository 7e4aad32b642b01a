/**
 * A bare websocket client for the ARI double's events socket: the upgrade as raw bytes, then
 * the server's (unmasked) text frames as strings, so tests see exactly what Asterisk would send.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { parseFrame } from '../support/asterisk-ari.js';

export interface EventsSocket {
  /** The HTTP response head (and body, for a refused upgrade) as received. */
  response: string;
  /** Text frames received so far, in order. */
  messages: string[];
  /** Sends a masked close frame and waits for the server to close. */
  close(): Promise<void>;
}

export async function openEvents(port: number, query: string, headers: Record<string, string> = {}): Promise<EventsSocket> {
  const socket = net.connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  socket.write(
    `GET /ari/events${query} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
      `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n${extra}\r\n`,
  );
  const messages: string[] = [];
  let buffered = Buffer.alloc(0);
  let response = '';
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (!response) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end < 0) return;
        response = buffered.subarray(0, end + 4).toString('latin1');
        buffered = buffered.subarray(end + 4);
        if (!response.startsWith('HTTP/1.1 101')) {
          // A refused upgrade: the rest is the body (and whatever else Asterisk wrote).
          socket.on('end', () => {
            response += buffered.toString('latin1');
            resolve();
          });
          return;
        }
        resolve();
      }
      for (let f = parseFrame(buffered); f; f = parseFrame(buffered)) {
        buffered = buffered.subarray(f.length);
        if (f.opcode === 0x1) messages.push(f.payload.toString('utf8'));
      }
    });
    socket.once('close', () => resolve());
  });
  return {
    response,
    messages,
    async close() {
      const mask = randomBytes(4);
      const payload = Buffer.from([0x03, 0xe8]).map((b, i) => b ^ (mask[i % 4] as number));
      if (!socket.destroyed) socket.write(Buffer.concat([Buffer.from([0x88, 0x80 | 2]), mask, payload]));
      await closed;
    },
  };
}
