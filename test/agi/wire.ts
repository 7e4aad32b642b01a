/** Plain TCP helpers for the AGI tests: a throwaway listener and a line reader with timeouts. */
import net, { type Socket } from 'node:net';

export interface Listener {
  port: number;
  sockets: Set<Socket>;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1, any free port; close() drops whatever is still connected. */
export async function listen(onConnection: (socket: Socket) => void, options: net.ServerOpts = {}): Promise<Listener> {
  const sockets = new Set<Socket>();
  const server = net.createServer(options, (socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.once('close', () => sockets.delete(socket));
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as net.AddressInfo;
  return {
    port: address.port,
    sockets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Connects a raw client (a peer that is not Asterisk, or a hand-driven one). */
export function connect(port: number, options: Partial<net.NetConnectOpts> = {}): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', ...options } as net.NetConnectOpts, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Resolves when the socket is fully closed. */
export function closed(socket: Socket): Promise<void> {
  return socket.closed ? Promise.resolve() : new Promise((resolve) => socket.once('close', () => resolve()));
}

/** Reads a socket line by line (LF), remembering the chunks as they arrived. */
export class LineQueue {
  readonly chunks: string[] = [];
  private buffer = '';
  private readonly lines: string[] = [];
  private ended = false;
  private wake?: () => void;

  constructor(socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      this.chunks.push(text);
      this.buffer += text;
      const parts = this.buffer.split('\n');
      this.buffer = parts.pop() ?? '';
      this.lines.push(...parts);
      this.wake?.();
    });
    socket.on('end', () => this.finish());
    socket.on('close', () => this.finish());
  }

  /** The next line, or undefined once the peer has closed. Rejects after `timeoutMs`. */
  async next(timeoutMs = 2000): Promise<string | undefined> {
    while (this.lines.length === 0 && !this.ended) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no line within ${timeoutMs} ms`)), timeoutMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return this.lines.shift();
  }

  /** Lines until the peer closes. */
  async rest(timeoutMs = 2000): Promise<string[]> {
    const out: string[] = [];
    for (let line = await this.next(timeoutMs); line !== undefined; line = await this.next(timeoutMs)) out.push(line);
    return out;
  }

  private finish(): void {
    this.ended = true;
    this.wake?.();
  }
}
