/**
 * One FastAGI connection from Asterisk: the environment, then commands strictly one at a time.
 * Asterisk reads commands through a stdio buffer and does not process a second command that
 * arrived in the same read until more bytes come, so a command is only written after the reply
 * to the previous one (agi-notes.md, "No pipelining").
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { DialguardError } from '../errors.js';
import {
  AgiErrorCode,
  EnvironmentCollector,
  LineSplitter,
  MAX_LINE_BYTES,
  ReplyReader,
  isSuccess,
  setVariableCommand,
  verboseCommand,
  type AgiEnvironment,
  type AgiReply,
  type AgiSuccessReply,
} from './protocol.js';

export interface AgiSessionOptions {
  /** Cut off a peer that has not sent the whole environment by then (Asterisk takes 1-3 ms). Default 1000. */
  envTimeoutMs?: number;
  /** Wait this long for each reply. Default 1000. */
  commandTimeoutMs?: number;
  /** After our FIN, wait this long for Asterisk to close before destroying. Default 1000. */
  closeGraceMs?: number;
  /** Close a session without traffic in either direction for this long (0: never). Default 10000. */
  idleTimeoutMs?: number;
  maxLineBytes?: number;
}

export interface CommandOptions {
  timeoutMs?: number;
}

interface PendingCommand {
  line: string;
  timeoutMs: number;
  resolve: (reply: AgiReply) => void;
  reject: (err: DialguardError) => void;
}

type Phase = 'env' | 'open' | 'closing' | 'closed';

interface SessionEvents {
  /** Asterisk sent an unsolicited `HANGUP` line: the channel is gone (dead-safe commands still work). */
  hangup: [];
  close: [];
}

const DEFAULTS = { envTimeoutMs: 1000, commandTimeoutMs: 1000, closeGraceMs: 1000, idleTimeoutMs: 10_000 };
type ResolvedOptions = Required<Omit<AgiSessionOptions, 'maxLineBytes'>>;
/** A server hands every session the same options object: resolve it once, not per connection. */
const resolved = new WeakMap<AgiSessionOptions, ResolvedOptions>();

function resolveOptions(options: AgiSessionOptions): ResolvedOptions {
  let value = resolved.get(options);
  if (!value) {
    value = { ...DEFAULTS, ...definedOnly(options) };
    resolved.set(options, value);
  }
  return value;
}

export class AgiSession extends EventEmitter<SessionEvents> {
  /** Reads the environment; resolves with a session ready for commands, or cuts the peer off. */
  static accept(socket: Socket, options: AgiSessionOptions = {}): Promise<AgiSession> {
    const session = new AgiSession(socket, options);
    return session.ready.then(() => session);
  }

  readonly remoteAddress: string;
  /** True once Asterisk has sent `HANGUP`. */
  hungUp = false;

  private readonly options: ResolvedOptions;
  private readonly splitter: LineSplitter;
  private readonly collector = new EnvironmentCollector();
  private readonly reader = new ReplyReader();
  private readonly ready: Promise<void>;
  private closedPromise?: Promise<void>;
  private resolveClosed?: () => void;
  private resolveReady?: () => void;
  private rejectReady?: (err: DialguardError) => void;
  private envValue?: AgiEnvironment;
  private phase: Phase = 'env';
  private inFlight?: PendingCommand;
  private readonly queue: PendingCommand[] = [];
  private envTimer?: NodeJS.Timeout;
  private graceTimer?: NodeJS.Timeout;
  /**
   * One timer for every command of the session, re-armed per command (refresh() re-uses it):
   * a session sends seven commands, and a reply that comes in time leaves it to fire for nothing.
   */
  private commandTimer?: NodeJS.Timeout;
  private commandTimerMs = 0;

  private constructor(private readonly socket: Socket, options: AgiSessionOptions) {
    super();
    this.options = resolveOptions(options);
    this.splitter = new LineSplitter(options.maxLineBytes ?? MAX_LINE_BYTES);
    this.remoteAddress = socket.remoteAddress ?? '';
    this.ready = new Promise<void>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.envTimer = setTimeout(() => {
      this.abort(() => new DialguardError(AgiErrorCode.envTimeout, `no complete AGI environment within ${this.options.envTimeoutMs} ms`));
    }, this.options.envTimeoutMs);
    socket.setNoDelay(true);
    if (this.options.idleTimeoutMs > 0) socket.setTimeout(this.options.idleTimeoutMs);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('timeout', () => this.onIdle());
    socket.on('end', () => this.onPeerEnd());
    socket.on('error', (err) => this.onSocketError(err));
    socket.on('close', () => this.onClose());
  }

  /** The environment Asterisk sent. */
  get env(): AgiEnvironment {
    if (!this.envValue) throw new DialguardError(AgiErrorCode.protocol, 'environment not received yet');
    return this.envValue;
  }

  /** The session can still carry commands (not closing, closed or broken). */
  get usable(): boolean {
    return this.phase === 'open';
  }

  get closed(): boolean {
    return this.phase === 'closed';
  }

  /**
   * Sends one command line (`…\n`, exactly one LF, no CR) after every earlier one has its
   * reply. Rejects with DG_AGI_TIMEOUT when no reply comes in time (the session is then closed:
   * a late reply could not be told apart from the next one) and DG_AGI_CLOSED when the
   * connection ends first.
   */
  command(line: string, options: CommandOptions = {}): Promise<AgiReply> {
    const body = line.endsWith('\n') ? line.slice(0, -1) : undefined;
    if (body === undefined || /[\r\n]/.test(body)) {
      return Promise.reject(new DialguardError(AgiErrorCode.badCommand, 'a command is one line ending in LF, without CR'));
    }
    if (this.phase !== 'open') return Promise.reject(this.closedError('session is not open'));
    return new Promise<AgiReply>((resolve, reject) => {
      this.queue.push({ line, timeoutMs: options.timeoutMs ?? this.options.commandTimeoutMs, resolve, reject });
      this.sendNext();
    });
  }

  /** Sets a channel variable; rejects with DG_AGI_REJECTED unless Asterisk answers 200. */
  async setVariable(name: string, value: string): Promise<AgiSuccessReply> {
    return expectSuccess(await this.command(setVariableCommand(name, value)), 'SET VARIABLE');
  }

  /** Writes a line to Asterisk's verbose log. */
  async verbose(text: string, level = 1): Promise<AgiSuccessReply> {
    return expectSuccess(await this.command(verboseCommand(text, level)), 'VERBOSE');
  }

  /**
   * Half-closes (FIN): Asterisk then answers what it already read, writes `HANGUP` and closes,
   * and the dialplan continues. Destroys the socket if Asterisk has not closed within the grace.
   * Commands not yet sent are rejected; idempotent.
   */
  close(): Promise<void> {
    if (this.phase === 'env' || this.phase === 'open') {
      this.phase = 'closing';
      this.rejectQueued(() => this.closedError('session closed before the command was sent'));
      this.socket.end();
      this.graceTimer = setTimeout(() => this.socket.destroy(), this.options.closeGraceMs);
    }
    if (this.phase === 'closed') return Promise.resolve();
    this.closedPromise ??= new Promise<void>((resolve) => (this.resolveClosed = resolve));
    return this.closedPromise;
  }

  /** Drops the connection at once (shutdown, garbage). */
  destroy(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    try {
      for (const line of this.splitter.push(chunk)) {
        if (this.phase === 'closed') return;
        if (this.phase === 'env') this.onEnvironmentLine(line);
        else this.onReplyLine(line);
      }
    } catch (err) {
      this.abort(() => toDialguardError(err));
    }
  }

  private onEnvironmentLine(line: string): void {
    const env = this.collector.push(line);
    if (!env) return;
    clearTimeout(this.envTimer);
    this.envValue = env;
    this.phase = 'open';
    this.settleReady();
  }

  private onReplyLine(line: string): void {
    const inbound = this.reader.push(line);
    if (!inbound) return;
    if (inbound.kind === 'hangup') {
      this.hungUp = true;
      this.emit('hangup');
      return;
    }
    const pending = this.inFlight;
    if (!pending) throw new DialguardError(AgiErrorCode.protocol, 'reply without a command', inbound.reply);
    this.inFlight = undefined;
    pending.resolve(inbound.reply);
    this.sendNext();
  }

  private sendNext(): void {
    if (this.inFlight || this.phase !== 'open') return;
    const next = this.queue.shift();
    if (!next) return;
    this.inFlight = next;
    this.armCommandTimer(next.timeoutMs);
    this.socket.write(next.line);
  }

  private armCommandTimer(ms: number): void {
    if (this.commandTimer && this.commandTimerMs === ms) {
      this.commandTimer.refresh();
      return;
    }
    clearTimeout(this.commandTimer);
    this.commandTimerMs = ms;
    this.commandTimer = setTimeout(() => this.onCommandTimeout(), ms);
  }

  /** Fires `commandTimerMs` after the last command was sent: only a command still unanswered timed out. */
  private onCommandTimeout(): void {
    const pending = this.inFlight;
    if (!pending) return;
    this.inFlight = undefined;
    pending.reject(new DialguardError(AgiErrorCode.timeout, `no reply within ${pending.timeoutMs} ms`, { command: commandWords(pending.line) }));
    void this.close();
  }

  private onIdle(): void {
    if (this.phase !== 'open') return;
    this.rejectAll(() => new DialguardError(AgiErrorCode.idle, `no traffic for ${this.options.idleTimeoutMs} ms`));
    void this.close();
  }

  private onPeerEnd(): void {
    this.stopCommands();
    const err = memo(() => this.closedError('Asterisk closed the connection'));
    this.settleReady(err);
    this.rejectAll(err);
    // Asterisk only closes after our FIN or when the channel is gone: nothing more can be said.
    // (end() on an already ended socket builds an error object with a stack: skip it.)
    if (!this.socket.writableEnded) this.socket.end();
  }

  private onSocketError(cause: Error): void {
    this.stopCommands();
    const err = memo(() => new DialguardError(AgiErrorCode.closed, `connection error: ${cause.message}`, undefined, { cause }));
    this.settleReady(err);
    this.rejectAll(err);
  }

  private onClose(): void {
    this.phase = 'closed';
    clearTimeout(this.envTimer);
    clearTimeout(this.graceTimer);
    clearTimeout(this.commandTimer);
    const err = memo(() => this.closedError('connection closed'));
    this.settleReady(err);
    this.rejectAll(err);
    this.resolveClosed?.();
    this.emit('close');
  }

  /** No command can be written any more; replies to one already sent may still arrive. */
  private stopCommands(): void {
    if (this.phase === 'env' || this.phase === 'open') this.phase = 'closing';
  }

  /** Garbage or an unusable peer: fail everything and drop the connection without a grace. */
  private abort(make: () => DialguardError): void {
    const err = memo(make);
    this.settleReady(err);
    this.rejectAll(err);
    this.socket.destroy();
  }

  /**
   * A method, not `this.settleReady = (err) => …` in the constructor: V8 allocates a function
   * literal assigned to a property straight into the old generation, and from there, until the
   * next mark-compact, it held each finished session's promise, socket and environment through
   * every minor GC, so all of it was promoted (about 6 KB a session on the null responder, 1.4 KB
   * without; README, Benchmark).
   */
  private settleReady(err?: () => DialguardError): void {
    const resolve = this.resolveReady;
    const reject = this.rejectReady;
    if (!resolve || !reject) return;
    this.resolveReady = undefined;
    this.rejectReady = undefined;
    if (err) reject(err());
    else resolve();
  }

  /** Errors are made only when someone waits for them: most sessions end with nothing pending. */
  private rejectAll(err: () => DialguardError): void {
    const pending = this.inFlight;
    this.inFlight = undefined;
    if (pending) pending.reject(err());
    this.rejectQueued(err);
  }

  private rejectQueued(err: () => DialguardError): void {
    for (const queued of this.queue.splice(0)) queued.reject(err());
  }

  private closedError(message: string): DialguardError {
    return new DialguardError(AgiErrorCode.closed, message);
  }
}

function memo<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= make());
}

function expectSuccess(reply: AgiReply, what: string): AgiSuccessReply {
  if (isSuccess(reply)) return reply;
  throw new DialguardError(AgiErrorCode.rejected, `Asterisk answered ${reply.code} to ${what}: ${reply.message}`, reply);
}

function toDialguardError(err: unknown): DialguardError {
  if (err instanceof DialguardError) return err;
  return new DialguardError(AgiErrorCode.protocol, err instanceof Error ? err.message : String(err), undefined, { cause: err });
}

/** The command words only: values may carry data that does not belong in an error or a log. */
function commandWords(line: string): string {
  return line.split(' ', 2).join(' ').trim();
}

function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<T>;
}
