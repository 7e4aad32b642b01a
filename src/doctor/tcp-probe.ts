import { connect } from 'node:net';
import type { ListenAddress } from '../config/config.js';

/**
 * `open`: the listener accepted and kept the connection; `dropped`: it accepted and closed at once
 * (how dialguard's FastAGI server turns away an address outside its allow list, or one past its
 * connection cap); `refused` and `timeout`: nothing answered.
 */
export type TcpProbe = { state: 'open' | 'dropped' | 'timeout' } | { state: 'refused'; code: string };

/** A server that turns a client away does so as soon as it accepts: a close within this is that. */
const DROP_WINDOW_MS = 250;

/** Connects, waits a moment for the peer to hang up, and closes without sending a byte. */
export function probeTcp(address: ListenAddress, timeoutMs: number): Promise<TcpProbe> {
  return new Promise((resolve) => {
    const socket = connect({ host: address.host, port: address.port });
    let connected = false;
    let timer = setTimeout(() => finish({ state: 'timeout' }), timeoutMs);
    const finish = (probe: TcpProbe): void => {
      clearTimeout(timer);
      socket.removeAllListeners();
      socket.on('error', () => undefined);
      socket.destroy();
      resolve(probe);
    };
    socket.once('connect', () => {
      connected = true;
      clearTimeout(timer);
      timer = setTimeout(() => finish({ state: 'open' }), DROP_WINDOW_MS);
      socket.once('close', () => finish({ state: 'dropped' }));
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      if (!connected) finish({ state: 'refused', code: error.code ?? error.message });
      else finish({ state: 'dropped' });
    });
  });
}
