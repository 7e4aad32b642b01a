/**
 * A test double of Asterisk 22's AMI, built from shared/asterisk/security/ami-security-events.txt:
 * on real TCP it sends the captured banner, answers a good Login with the captured login response
 * (its ActionID echoed, as Asterisk does), then replays the captured 85 event blocks byte for
 * byte; a Logoff gets the captured Goodbye. A bad Login is answered as the capture shows (README
 * fact 12): 1 s later `Response: Error` / `Message: Authentication failed`, without the ActionID,
 * then the connection is closed. Ping is answered as manager.c does (`Ping: Pong`, `Timestamp:`).
 * Its own reading of the client's actions is independent of src/ami.
 */
import net, { type Server, type Socket } from 'node:net';
import { amiCapture, latestCaptureTime, shiftCaptureTimes } from './security-captures.js';

const CRLF = '\r\n';
const END = '\r\n\r\n';

/** The capture cut where Asterisk's answers were: banner, login response, the events, the Goodbye. */
export function captureParts(): { banner: Buffer; login: Buffer; events: Buffer; goodbye: Buffer } {
  const all = amiCapture();
  const bannerEnd = all.indexOf(CRLF) + CRLF.length;
  const loginEnd = all.indexOf(END, bannerEnd) + END.length;
  const goodbyeStart = all.lastIndexOf('Response: Goodbye');
  return {
    banner: all.subarray(0, bannerEnd),
    login: all.subarray(bannerEnd, loginEnd),
    events: all.subarray(loginEnd, goodbyeStart),
    goodbye: all.subarray(goodbyeStart),
  };
}

/** The event blocks of the capture, each with its closing empty line, as raw bytes. */
export function captureEventBlocks(): Buffer[] {
  const { events } = captureParts();
  const blocks: Buffer[] = [];
  for (let start = 0; start < events.length; ) {
    const end = events.indexOf(END, start) + END.length;
    blocks.push(events.subarray(start, end));
    start = end;
  }
  return blocks;
}

/**
 * The captured event blocks as the same Asterisk would send them if the capture's last event
 * happened at `lastAt`: only EventTV and SessionTV change (see shiftCaptureTimes), every other
 * byte is the capture's. Needed because the guard dates each event by its EventTV (the tracker's
 * windows are the events' own time, so that a replayed log counts as it happened), and a real
 * Asterisk stamps an event with the moment it sends it: the capture's own times, days old, would
 * fall outside the guard's window and the replay would test nothing.
 */
export function retimedEventBlocks(lastAt: number): Buffer[] {
  const shift = lastAt - latestCaptureTime(captureParts().events.toString('utf8'));
  return captureEventBlocks().map((block) => Buffer.from(shiftCaptureTimes(block.toString('utf8'), shift)));
}

export interface AmiAction {
  fields: Map<string, string>;
  /** The bytes as sent, closing empty line included. */
  raw: string;
}

export interface AmiDoubleOptions {
  user: string;
  secret: string;
  /**
   * What follows a good login: default the captured events. Tests splice malformed or oversize
   * blocks in between.
   */
  afterLogin?: () => Buffer[];
  /** How long a bad login waits for its answer; Asterisk waits 1 s. */
  badLoginDelayMs?: number;
}

export interface AsteriskAmi {
  readonly port: number;
  /** `tcp://USER:SECRET@127.0.0.1:PORT`, user and secret percent-encoded. */
  url(user?: string, secret?: string): string;
  /** Every action received, by connection, in order. */
  readonly actions: AmiAction[];
  readonly logins: AmiAction[];
  /** Connections accepted since the start. */
  readonly connections: number;
  /** Connections open now. */
  readonly open: number;
  /** Sends event blocks to every logged-in connection, as Asterisk sends events as they happen. */
  send(blocks: Buffer[]): void;
  /** Closes every connection and stops listening, as an Asterisk restart does. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startAsteriskAmi(options: AmiDoubleOptions): Promise<AsteriskAmi> {
  const parts = captureParts();
  const afterLogin = options.afterLogin ?? (() => [parts.events]);
  const badLoginDelayMs = options.badLoginDelayMs ?? 1000;
  const actions: AmiAction[] = [];
  const sockets = new Set<Socket>();
  const loggedInSockets = new Set<Socket>();
  let connections = 0;
  let port = 0;
  let server: Server | null = null;

  function onConnection(socket: Socket): void {
    connections++;
    sockets.add(socket);
    socket.on('close', () => {
      sockets.delete(socket);
      loggedInSockets.delete(socket);
    });
    socket.on('error', () => socket.destroy());
    socket.write(parts.banner);
    let buffered = '';
    let loggedIn = false;
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      for (let end = buffered.indexOf(END); end !== -1; end = buffered.indexOf(END)) {
        const raw = buffered.slice(0, end + END.length);
        buffered = buffered.slice(end + END.length);
        const fields = new Map<string, string>();
        for (const line of raw.slice(0, -END.length).split(CRLF)) {
          const sep = line.indexOf(': ');
          fields.set(line.slice(0, sep).toLowerCase(), line.slice(sep + 2));
        }
        const action: AmiAction = { fields, raw };
        actions.push(action);
        answer(socket, action, loggedIn, () => (loggedIn = true));
      }
    });
  }

  function answer(socket: Socket, action: AmiAction, loggedIn: boolean, setLoggedIn: () => void): void {
    const name = action.fields.get('action')?.toLowerCase();
    const id = action.fields.get('actionid');
    const withId = (block: Buffer): Buffer => Buffer.from(block.toString('utf8').replace(/^ActionID: .*$/m, `ActionID: ${id ?? ''}`));
    if (name === 'login') {
      if (action.fields.get('username') === options.user && action.fields.get('secret') === options.secret) {
        setLoggedIn();
        loggedInSockets.add(socket);
        socket.write(withId(parts.login));
        for (const bytes of afterLogin()) socket.write(bytes);
      } else {
        setTimeout(() => {
          if (!socket.destroyed) socket.end(`Response: Error${CRLF}Message: Authentication failed${END}`);
        }, badLoginDelayMs);
      }
    } else if (!loggedIn) {
      socket.write(`Response: Error${CRLF}${id ? `ActionID: ${id}${CRLF}` : ''}Message: Permission denied${END}`);
    } else if (name === 'logoff') {
      socket.end(withId(parts.goodbye));
    } else if (name === 'ping') {
      socket.write(`Response: Success${CRLF}${id ? `ActionID: ${id}${CRLF}` : ''}Ping: Pong${CRLF}Timestamp: ${(Date.now() / 1000).toFixed(6)}${END}`);
    } else {
      socket.write(`Response: Error${CRLF}${id ? `ActionID: ${id}${CRLF}` : ''}Message: Invalid/unknown command${END}`);
    }
  }

  async function start(): Promise<void> {
    const srv = net.createServer(onConnection);
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen({ host: '127.0.0.1', port }, () => {
        srv.off('error', reject);
        resolve();
      });
    });
    const bound = srv.address();
    if (bound && typeof bound === 'object') port = bound.port;
    server = srv;
  }

  async function stop(): Promise<void> {
    const srv = server;
    server = null;
    for (const socket of sockets) socket.destroy();
    if (srv) await new Promise<void>((resolve) => srv.close(() => resolve()));
  }

  await start();
  return {
    get port() {
      return port;
    },
    url: (user = options.user, secret = options.secret) => `tcp://${encodeURIComponent(user)}:${encodeURIComponent(secret)}@127.0.0.1:${port}`,
    actions,
    get logins() {
      return actions.filter((a) => a.fields.get('action')?.toLowerCase() === 'login');
    },
    get connections() {
      return connections;
    },
    get open() {
      return sockets.size;
    },
    send(blocks) {
      for (const socket of loggedInSockets) for (const bytes of blocks) socket.write(bytes);
    },
    stop,
    start,
    close: stop,
  };
}
