import net from 'node:net';
import { performance } from 'node:perf_hooks';

/** MAX_AGI_CONNECT in res_agi.c: Asterisk abandons a handshake still pending after it. */
export const MAX_AGI_CONNECT_MS = 2000;

export interface SessionOutcome {
  /** From connect() to the server's FIN or RST: how long AGI() holds the call. */
  ms: number;
  /** Commands the server sent: 0 when it closed without answering (AGISTATUS=SUCCESS, nothing set). */
  commands: number;
  /**
   * `fin` or `reset`: how the server ended the session. `connect-timeout`: the handshake did not
   * complete within the connect timeout, after which Asterisk gives up (AGISTATUS=FAILURE).
   */
  end: 'fin' | 'reset' | 'connect-timeout';
}

/**
 * A load generator that talks like Asterisk 22 (agi-authorize-syscalls.txt): one write() per
 * environment line, a lone "\n", each command answered only after it arrived, and "HANGUP\n"
 * after the server's FIN. Kept lean so that the generator costs little CPU itself.
 */
export function playSessionOutcome(port: number, envLines: readonly string[], connectTimeoutMs = 0): Promise<SessionOutcome> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let elapsed = 0;
    let buffer = '';
    let commands = 0;
    let end: SessionOutcome['end'] = 'reset';
    let connected = false;
    const socket = net.connect({ port, host: '127.0.0.1', noDelay: true });
    const connectTimer =
      connectTimeoutMs > 0
        ? setTimeout(() => {
            end = 'connect-timeout';
            elapsed = performance.now() - started;
            socket.destroy();
          }, connectTimeoutMs)
        : undefined;
    socket.setEncoding('latin1');
    socket.on('connect', () => {
      connected = true;
      clearTimeout(connectTimer);
      for (const line of envLines) socket.write(line);
      socket.write('\n');
    });
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      let i: number;
      while ((i = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 1);
        commands++;
        socket.write(line.startsWith('NOOP') ? '200 result=0\n' : '200 result=1\n');
      }
    });
    socket.on('end', () => {
      // AGI() returns to the dialplan when the server closes: that is the latency Asterisk sees.
      elapsed = performance.now() - started;
      end = 'fin';
      socket.end('HANGUP\n');
    });
    socket.on('close', () => resolve({ ms: elapsed, commands, end }));
    socket.on('error', (err) => {
      if (!connected && end !== 'connect-timeout') {
        clearTimeout(connectTimer);
        reject(err);
      } else if (end !== 'fin') elapsed = performance.now() - started;
    });
  });
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}
