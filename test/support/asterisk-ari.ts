/**
 * A test double of Asterisk 22's ARI, built from the recordings in shared/asterisk (ari-*.json)
 * and from dialguard's own description of the few resources it uses (ari-resources/):
 *
 * - HTTP with basic auth (or `api_key=user:password`), 401 `Authentication required` otherwise;
 * - `/ari/api-docs/resources.json` and the resource files, `basePath` rebuilt from the Host
 *   header as Asterisk does;
 * - the events websocket `/ari/events?app=…` (no permessage-deflate, 401 / 400 on a bad upgrade);
 * - `POST /channels/{id}/variable` (204, then ChannelVarset), `POST /channels/{id}/continue`
 *   (StasisEnd BEFORE the 204, as captured), `GET /channels/{id}/variable`, and 404 with
 *   Asterisk's messages once the channel left Stasis or hung up;
 * - events pretty-printed as with ari.conf `pretty = yes`, shaped like the captured ones.
 *
 * A channel stays in Stasis until it is continued, hangs up, or reaches its absolute timeout
 * (timeOut()): like Asterisk, the double never gives up on a silent app (ari-app-silent.json).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

const RESOURCES_DIR = new URL('./ari-resources/', import.meta.url);
const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const ASTERISK_ID = '02:fc:00:00:00:01';
const AUTH_REQUIRED = '{\n  "message": "Authentication required"\n}';

export interface AsteriskAriOptions {
  user?: string;
  password?: string;
  /** Fixed port (to come back on the same one after stop()); default a random free port. */
  port?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  status: number;
  /** Valid credentials were sent (Basic or api_key). */
  authorized: boolean;
  atMs: number;
}

export interface RecordedUpgrade {
  query: Record<string, string>;
  status: 101 | 400 | 401 | 404;
  atMs: number;
}

export type ChannelPlace = 'stasis' | 'dialplan' | 'gone';
export type ChannelExit = 'continued' | 'hungup' | 'failed' | 'timeout';

export interface StasisOptions {
  app?: string;
  /** Caller id number and endpoint; default the second argument (EXT) or 1001. */
  caller?: string;
  context?: string;
  exten?: string;
  priority?: number;
  state?: string;
}

/** One channel that ran Stasis(): what the app did to it. */
export class AriChannel {
  readonly variables = new Map<string, string>();
  /** Channel operations in arrival order, with the status answered. */
  readonly operations: Array<{ op: 'set' | 'get' | 'continue'; variable?: string; value?: string; status: number }> = [];
  place: ChannelPlace = 'stasis';
  /** STASISSTATUS as the dialplan would see it. */
  status: 'SUCCESS' | 'FAILED' = 'SUCCESS';
  /** Resolves when the channel leaves Stasis: continued by the app, hung up, or timed out. */
  readonly left: Promise<ChannelExit>;
  /** Taken out of Stasis by its absolute timeout, and still up in the dialplan. */
  timedOut = false;
  private leave!: (how: ChannelExit) => void;

  constructor(
    readonly id: string,
    readonly name: string,
    readonly app: string,
    readonly args: string[],
    readonly snapshotFields: { caller: string; context: string; exten: string; priority: number; state: string; createdAt: Date },
  ) {
    this.left = new Promise((resolve) => (this.leave = resolve));
  }

  markLeft(how: ChannelExit, place: ChannelPlace): void {
    this.place = place;
    this.leave(how);
  }

  /** The variables the app set, as an object (for toMatchObject). */
  vars(): Record<string, string> {
    return Object.fromEntries(this.variables);
  }

  get continues(): number {
    return this.operations.filter((o) => o.op === 'continue').length;
  }

  /** The channel object of an event, keys in Asterisk's order. */
  snapshot(): Record<string, unknown> {
    const f = this.snapshotFields;
    return {
      id: this.id,
      name: this.name,
      state: f.state,
      protocol_id: `${this.id.replace('.', '-')}@127.0.0.2`,
      caller: { name: `Lab ${f.caller}`, number: f.caller },
      connected: { name: '', number: '' },
      accountcode: '',
      dialplan: { context: f.context, exten: f.exten, priority: f.priority, app_name: 'Stasis', app_data: [this.app, ...this.args].join(',') },
      creationtime: asteriskTime(f.createdAt),
      language: 'en',
    };
  }
}

export interface AsteriskAri {
  readonly port: number;
  /** What DIALGUARD_ARI_URL would be: http://127.0.0.1:PORT */
  readonly url: string;
  readonly requests: RecordedRequest[];
  readonly upgrades: RecordedUpgrade[];
  readonly channels: AriChannel[];
  /** Delay before each channel operation is processed, as a busy Asterisk would. */
  replyDelayMs: number;
  /** The next `op` on any channel answers `status` and does nothing, as a struggling Asterisk might. */
  failNext(op: 'set' | 'get' | 'continue', status?: number): void;
  /** ari.conf changed and reloaded: later requests are checked against these. */
  setCredentials(user: string, password: string): void;
  /** Open event websockets subscribed to `app`. */
  connections(app?: string): number;
  waitForConnection(app?: string, timeoutMs?: number): Promise<void>;
  waitForNoConnection(app?: string, timeoutMs?: number): Promise<void>;
  /** `Stasis(app,args…)` from a live channel. With no app connected: STASISSTATUS=FAILED, no event. */
  stasis(args: string[], options?: StasisOptions): AriChannel;
  /** The caller hangs up while the channel is in Stasis: ChannelHangupRequest, then StasisEnd. */
  hangup(channel: AriChannel): void;
  /**
   * The channel's TIMEOUT(absolute) fires while it is in Stasis (dialplan-deadline.md (c)): the
   * app gets StasisEnd (state Ring) and nothing else; the channel goes on in the dialplan, and
   * a variable POST or continue afterwards gets 409 "Channel not in Stasis application".
   */
  timeOut(channel: AriChannel): void;
  /**
   * `Stasis(app,settle,…)` from a hangup handler (ari-settle-session.json): StasisStart and
   * StasisEnd at once, on a dead channel where every operation answers 404.
   */
  stasisOnDeadChannel(args: string[], options?: StasisOptions): AriChannel;
  /** Every event websocket is cut (TCP reset), as when Asterisk crashes. */
  dropConnections(): void;
  /** Asterisk stops: the port refuses connections and every socket is cut. */
  stop(): Promise<void>;
  /** Asterisk is back on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startAsteriskAri(options: AsteriskAriOptions = {}): Promise<AsteriskAri> {
  const double = new AriDouble(options.user ?? 'dialguard', options.password ?? 'ari-secret');
  await double.listen(options.port ?? 0);
  return double;
}

class AriDouble implements AsteriskAri {
  readonly requests: RecordedRequest[] = [];
  readonly upgrades: RecordedUpgrade[] = [];
  readonly channels: AriChannel[] = [];
  replyDelayMs = 0;
  port = 0;
  private server: http.Server | null = null;
  private readonly sockets = new Set<Duplex>();
  private readonly websockets = new Set<EventSocket>();
  private readonly started = performance.now();
  private sequence = 0;
  private readonly failing: Array<{ op: 'set' | 'get' | 'continue'; status: number }> = [];

  constructor(
    private user: string,
    private password: string,
  ) {}

  failNext(op: 'set' | 'get' | 'continue', status = 500): void {
    this.failing.push({ op, status });
  }

  setCredentials(user: string, password: string): void {
    this.user = user;
    this.password = password;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  listen(port: number): Promise<void> {
    const server = http.createServer((req, res) => void this.onRequest(req, res));
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex) => this.onUpgrade(req, socket));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port }, () => {
        const address = server.address();
        this.port = typeof address === 'object' && address ? address.port : port;
        resolve();
      });
    });
  }

  connections(app = 'dialguard'): number {
    return [...this.websockets].filter((ws) => ws.open && ws.apps.includes(app)).length;
  }

  async waitForConnection(app = 'dialguard', timeoutMs = 10_000): Promise<void> {
    await until(() => this.connections(app) > 0, timeoutMs, `no websocket for app ${app}`);
  }

  async waitForNoConnection(app = 'dialguard', timeoutMs = 10_000): Promise<void> {
    await until(() => this.connections(app) === 0, timeoutMs, `a websocket for app ${app} is still open`);
  }

  stasis(args: string[], options: StasisOptions = {}): AriChannel {
    const channel = this.newChannel(args, options);
    if (this.connections(channel.app) === 0) {
      // "Stasis app 'dialguard' doesn't exist": Stasis() returns at once (ari-errors.json, no_app).
      channel.status = 'FAILED';
      channel.markLeft('failed', 'dialplan');
      return channel;
    }
    this.emit(channel.app, { type: 'StasisStart', timestamp: asteriskTime(), args, channel: channel.snapshot() });
    return channel;
  }

  hangup(channel: AriChannel): void {
    if (channel.place !== 'stasis') {
      channel.place = 'gone';
      return;
    }
    // A CANCEL from the caller, as in ari-app-silent.json.
    this.emit(channel.app, { cause: 127, tech_cause: 487, type: 'ChannelHangupRequest', timestamp: asteriskTime(), channel: channel.snapshot() });
    this.emit(channel.app, { type: 'StasisEnd', timestamp: asteriskTime(), channel: channel.snapshot() });
    channel.markLeft('hungup', 'gone');
  }

  timeOut(channel: AriChannel): void {
    if (channel.place !== 'stasis') return;
    this.emit(channel.app, { type: 'StasisEnd', timestamp: asteriskTime(), channel: channel.snapshot() });
    channel.timedOut = true;
    channel.markLeft('timeout', 'dialplan');
  }

  stasisOnDeadChannel(args: string[], options: StasisOptions = {}): AriChannel {
    const channel = this.newChannel(args, { context: 'dialguard-hangup-ari', exten: 's', priority: 2, state: 'Up', ...options });
    if (this.connections(channel.app) === 0) {
      channel.status = 'FAILED';
      channel.markLeft('failed', 'gone');
      return channel;
    }
    const at = asteriskTime();
    this.emit(channel.app, { type: 'StasisStart', timestamp: at, args, channel: channel.snapshot() });
    this.emit(channel.app, { type: 'StasisEnd', timestamp: at, channel: channel.snapshot() });
    channel.markLeft('hungup', 'gone');
    return channel;
  }

  dropConnections(): void {
    for (const ws of this.websockets) ws.destroy();
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    this.dropConnections();
    for (const socket of this.sockets) socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async start(): Promise<void> {
    if (!this.server) await this.listen(this.port);
  }

  close(): Promise<void> {
    return this.stop();
  }

  private newChannel(args: string[], options: StasisOptions): AriChannel {
    this.sequence += 1;
    const caller = options.caller ?? (args[1] || '1001');
    const id = `${Math.floor(Date.now() / 1000)}.${this.sequence}`;
    const name = `PJSIP/${caller}-${this.sequence.toString(16).padStart(8, '0')}`;
    const channel = new AriChannel(id, name, options.app ?? 'dialguard', args, {
      caller,
      context: options.context ?? 'dialguard-outbound-ari',
      exten: options.exten ?? (args[2] || 's'),
      priority: options.priority ?? 1,
      state: options.state ?? 'Ring',
      createdAt: new Date(),
    });
    this.channels.push(channel);
    return channel;
  }

  private emit(app: string, event: Record<string, unknown>): void {
    const text = JSON.stringify({ ...event, asterisk_id: ASTERISK_ID, application: app }, null, 2);
    for (const ws of this.websockets) if (ws.open && ws.apps.includes(app)) ws.sendText(text);
  }

  private authorized(req: IncomingMessage, query: Record<string, string>): boolean {
    const header = req.headers.authorization ?? '';
    if (header.startsWith('Basic ')) {
      return Buffer.from(header.slice(6), 'base64').toString('utf8') === `${this.user}:${this.password}`;
    }
    return query.api_key === `${this.user}:${this.password}`;
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://double');
    const query = Object.fromEntries(url.searchParams);
    const authorized = this.authorized(req, query);
    const record: RecordedRequest = { method: req.method ?? '', path: url.pathname, query, status: 0, authorized, atMs: this.elapsed() };
    this.requests.push(record);
    req.resume();
    const reply = (status: number, body: string | null, extra: Record<string, string> = {}): void => {
      record.status = status;
      writeAsteriskResponse(res, status, body, extra);
    };
    if (!authorized) {
      reply(401, AUTH_REQUIRED, { 'WWW-Authenticate': 'Basic realm="Asterisk REST Interface"' });
      return;
    }
    const docs = /^\/ari\/api-docs\/([A-Za-z]+)\.json$/.exec(url.pathname);
    if (docs && req.method === 'GET') {
      const doc = apiDoc(docs[1] as string, `http://${req.headers.host ?? `127.0.0.1:${this.port}`}/ari`);
      reply(doc ? 200 : 404, doc ?? message('Not found'));
      return;
    }
    const op = /^\/ari\/channels\/([^/]+)\/(variable|continue)$/.exec(url.pathname);
    if (!op) {
      reply(404, message('Not found'));
      return;
    }
    if (this.replyDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.replyDelayMs));
    const channel = this.channels.find((c) => c.id === decodeURIComponent(op[1] as string));
    this.channelOperation(channel, op[2] === 'continue' ? 'continue' : req.method === 'GET' ? 'get' : 'set', query, reply);
  }

  private channelOperation(
    channel: AriChannel | undefined,
    op: 'set' | 'get' | 'continue',
    query: Record<string, string>,
    reply: (status: number, body: string | null) => void,
  ): void {
    const inStasis = channel?.place === 'stasis';
    const log = (status: number): void => {
      channel?.operations.push({ op, variable: query.variable, value: query.value, status });
    };
    const failure = this.failing.findIndex((f) => f.op === op);
    if (failure >= 0) {
      const status = this.failing.splice(failure, 1)[0]?.status ?? 500;
      log(status);
      reply(status, message('Internal Server Error'));
      return;
    }
    if (channel?.timedOut && op !== 'get') {
      log(409);
      reply(409, message('Channel not in Stasis application'));
      return;
    }
    if (op === 'continue') {
      if (!channel || !inStasis) {
        log(404);
        reply(404, message('Channel not found'));
        return;
      }
      log(204);
      // Captured: the StasisEnd event reached the app before the 204 of continue.
      this.emit(channel.app, { type: 'StasisEnd', timestamp: asteriskTime(), channel: channel.snapshot() });
      channel.markLeft('continued', 'dialplan');
      reply(204, null);
      return;
    }
    if (op === 'get') {
      const value = channel && query.variable !== undefined ? channel.variables.get(query.variable) : undefined;
      const status = !channel || !inStasis ? 404 : value === undefined ? 404 : 200;
      log(status);
      if (!channel || !inStasis) reply(404, message('Provided channel was not found'));
      else if (value === undefined) reply(404, message('Provided variable was not found'));
      else reply(200, JSON.stringify({ value }, null, 2));
      return;
    }
    if (!query.variable) {
      log(400);
      reply(400, message('Variable name is required'));
      return;
    }
    if (!channel || !inStasis) {
      log(404);
      reply(404, message('Channel not found'));
      return;
    }
    log(204);
    // An omitted value unsets the variable; value= sets it empty (ari-errors.json).
    if (query.value === undefined) channel.variables.delete(query.variable);
    else channel.variables.set(query.variable, query.value);
    reply(204, null);
    this.emit(channel.app, {
      variable: query.variable,
      value: query.value ?? '',
      type: 'ChannelVarset',
      timestamp: asteriskTime(),
      channel: channel.snapshot(),
    });
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex): void {
    const url = new URL(req.url ?? '/', 'http://double');
    const query = Object.fromEntries(url.searchParams);
    const record = (status: RecordedUpgrade['status']): void => {
      this.upgrades.push({ query: { ...query, ...(query.api_key ? { api_key: redactKey(query.api_key) } : {}) }, status, atMs: this.elapsed() });
    };
    if (url.pathname !== '/ari/events') {
      record(404);
      socket.end(rawResponse('404 Not Found', message('Not found'), { 'Content-type': 'application/json' }));
      return;
    }
    if (!this.authorized(req, query)) {
      record(401);
      socket.end(
        rawResponse('401 Unauthorized', AUTH_REQUIRED, { 'WWW-Authenticate': 'Basic realm="Asterisk REST Interface"', 'Content-type': 'application/json' }),
      );
      return;
    }
    const apps = (query.app ?? '').split(',').filter(Boolean);
    if (apps.length === 0) {
      record(400);
      // Two responses on one connection, as captured.
      socket.end(
        rawResponse('400 Bad Request', missingAppPage(), { 'Content-type': 'text/html' }) +
          rawResponse('400 Bad Request', '', { 'Sec-WebSocket-Version': '7, 8, 13' }),
      );
      return;
    }
    record(101);
    const accept = createHash('sha1')
      .update(`${String(req.headers['sec-websocket-key'] ?? '')}${WS_GUID}`)
      .digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    const ws = new EventSocket(socket, apps);
    this.websockets.add(ws);
    socket.once('close', () => this.websockets.delete(ws));
  }

  private elapsed(): number {
    return Math.round((performance.now() - this.started) * 1000) / 1000;
  }
}

/** The server side of one events websocket: unmasked text frames out, close and ping handled. */
class EventSocket {
  open = true;
  private buffered = Buffer.alloc(0);

  constructor(
    private readonly socket: Duplex,
    readonly apps: string[],
  ) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => undefined);
    socket.once('close', () => (this.open = false));
  }

  sendText(text: string): void {
    if (this.open) this.socket.write(frame(0x1, Buffer.from(text, 'utf8')));
  }

  destroy(): void {
    this.open = false;
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.buffered = Buffer.concat([this.buffered, chunk]);
    for (let parsed = parseFrame(this.buffered); parsed; parsed = parseFrame(this.buffered)) {
      this.buffered = this.buffered.subarray(parsed.length);
      if (parsed.opcode === 0x8) {
        // The client closes: answer with 1000 and close the TCP connection, as Asterisk did.
        if (this.open) this.socket.end(frame(0x8, Buffer.from([0x03, 0xe8])));
        this.open = false;
        return;
      }
      if (parsed.opcode === 0x9) this.socket.write(frame(0xa, parsed.payload));
    }
  }
}

function frame(opcode: number, payload: Buffer): Buffer {
  const length = payload.length;
  const head =
    length < 126
      ? Buffer.from([0x80 | opcode, length])
      : length < 65536
        ? Buffer.from([0x80 | opcode, 126, length >> 8, length & 0xff])
        : Buffer.concat([Buffer.from([0x80 | opcode, 127]), bigEndian64(length)]);
  return Buffer.concat([head, payload]);
}

function bigEndian64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

/** One websocket frame, masked (from a client) or not (from a server), or null until it is complete. */
export function parseFrame(buf: Buffer): { opcode: number; payload: Buffer; length: number } | null {
  if (buf.length < 2) return null;
  const opcode = (buf[0] as number) & 0x0f;
  const masked = ((buf[1] as number) & 0x80) !== 0;
  let length = (buf[1] as number) & 0x7f;
  let offset = 2;
  if (length === 126) {
    if (buf.length < 4) return null;
    length = buf.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    if (buf.length < 10) return null;
    length = Number(buf.readBigUInt64BE(2));
    offset = 10;
  }
  const maskOffset = offset;
  if (masked) offset += 4;
  if (buf.length < offset + length) return null;
  const payload = Buffer.from(buf.subarray(offset, offset + length));
  if (masked) for (let i = 0; i < payload.length; i++) payload[i] = (payload[i] as number) ^ (buf[maskOffset + (i % 4)] as number);
  return { opcode, payload, length: offset + length };
}

/** A resource file of the description, with basePath as Asterisk builds it from the Host header. */
function apiDoc(name: string, basePath: string): string | null {
  let text: string;
  try {
    text = readFileSync(new URL(`${name}.json`, RESOURCES_DIR), 'utf8');
  } catch {
    return null;
  }
  return JSON.stringify({ ...(JSON.parse(text) as Record<string, unknown>), basePath }, null, 2);
}

function writeAsteriskResponse(res: ServerResponse, status: number, body: string | null, extra: Record<string, string>): void {
  const headers: Record<string, string> = {
    Server: 'Asterisk/22.10.1',
    Date: new Date().toUTCString(),
    'Cache-Control': 'no-cache, no-store',
    ...extra,
  };
  if (body !== null) headers['Content-type'] = 'application/json';
  headers['Content-Length'] = String(body === null ? 0 : Buffer.byteLength(body));
  res.writeHead(status, headers);
  res.end(body ?? undefined);
}

function rawResponse(statusLine: string, body: string, headers: Record<string, string>): string {
  const lines = [
    `HTTP/1.1 ${statusLine}`,
    'Server: Asterisk/22.10.1',
    `Date: ${new Date().toUTCString()}`,
    'Cache-Control: no-cache, no-store',
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
    `Content-Length: ${Buffer.byteLength(body)}`,
  ];
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

function missingAppPage(): string {
  return (
    '<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\r\n<html><head>\r\n<title>400 Bad Request</title>\r\n</head><body>\r\n' +
    '<h1>Bad Request</h1>\r\n<p>HTTP request is missing param: [app]</p>\r\n<hr />\r\n<address>Asterisk/22.10.1</address>\r\n</body></html>\r\n'
  );
}

function message(text: string): string {
  return JSON.stringify({ message: text }, null, 2);
}

function redactKey(apiKey: string): string {
  return `${apiKey.split(':')[0] ?? ''}:REDACTED`;
}

/** Asterisk's event timestamps: 2026-11-21T12:49:03.324+0000 */
export function asteriskTime(at = new Date()): string {
  return at.toISOString().replace('Z', '+0000');
}

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
