/**
 * A test double of Asterisk 22's FastAGI client, built from the recordings in shared/asterisk:
 * it connects, writes the environment one write() per line then a lone "\n", answers commands
 * like res_agi does (argument splitting, 510/511/520, dead channels), writes an unsolicited
 * "HANGUP\n" when the caller hangs up, and on the server's FIN writes "HANGUP\n" and closes.
 *
 * It also reproduces Asterisk's stdio read: a command that arrived in the same read as an
 * earlier one is not processed until more bytes arrive. Any byte that arrives before the reply
 * to the previous command is recorded as a violation.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';

export type AgiEnvPairs = ReadonlyArray<readonly [string, string]>;

export interface AsteriskReplyContext {
  /** What Asterisk itself would answer, with its effect (SET VARIABLE stores the value). */
  defaultReply(): string;
}

export interface PlayAsteriskOptions {
  port: number;
  host?: string;
  /** Ordered environment, from a capture or authorizeEnv(). */
  env: AgiEnvPairs;
  /**
   * Reply text for a command line (LF removed); several lines joined by "\n". `null`: never
   * answer (Asterisk stuck in the command). Default: what Asterisk answers.
   */
  replies?: (command: string, asterisk: AsteriskReplyContext) => string | null;
  /** The caller hangs up this long after connect: unsolicited "HANGUP\n", channel dead. */
  hangupAfterMs?: number;
  /**
   * The channel hangs up when this aborts, as with hangupAfterMs: a caller's CANCEL, or the
   * channel's absolute timeout (dialplan-deadline.md (a): "HANGUP\n" at the deadline).
   */
  hangupSignal?: AbortSignal;
  /**
   * Asterisk gives up a TCP handshake that does not complete within MAX_AGI_CONNECT_MS
   * (agi-server-down.json): the promise rejects with AgiConnectTimeout. Default: no limit.
   */
  connectTimeoutMs?: number;
  /** The session starts on a dead channel (hangup handler): 511 for non dead-safe commands, no HANGUP at start. */
  deadChannel?: boolean;
  /** AGISIGHUP=no: no HANGUP line is ever written. Default true. */
  sigHup?: boolean;
  /** AGIEXITONHANGUP=yes: "HANGUP\n" twice at the hangup, then Asterisk closes the socket. */
  exitOnHangup?: boolean;
  /** Channel variables set before AGI() ran (GET VARIABLE reads them). */
  channelVariables?: Record<string, string>;
  /** Delay before each reply, so that a server sending its next command early is caught. Default 0. */
  replyDelayMs?: number;
  /** Asterisk would wait forever for the server to close; the double gives up after this. Default 10000. */
  giveUpAfterMs?: number;
}

export interface AsteriskCommand {
  /** The command line as received, LF removed. */
  line: string;
  /** As Asterisk's parse_args() splits it. */
  args: string[];
  /** Reply written (lines joined by "\n"); null if never answered. */
  reply: string | null;
  receivedAtMs: number;
  repliedAtMs?: number;
  /** Unsolicited HANGUP lines written between the previous reply and this one. */
  hangupsBefore: number;
}

export interface AsteriskTranscript {
  commands: AsteriskCommand[];
  /** Variables set by SET VARIABLE during the session, final values. */
  variables: Map<string, string>;
  /** Protocol misuse by the server: pipelined commands, CR in a command, never closing. */
  violations: string[];
  hangupsSent: number;
  /** Every byte the server sent. */
  received: string;
  /** How the session ended: the server's FIN (the normal way), a reset, Asterisk exiting on hangup, or the double giving up. */
  end: 'server-fin' | 'server-reset' | 'asterisk-exit' | 'gave-up';
  /** Milliseconds from the start of playAsteriskSession(). */
  timings: { connectedMs: number; envSentMs: number; serverFinMs?: number; closedMs: number };
}

/** res_agi.c's MAX_AGI_CONNECT: how long Asterisk waits for a FastAGI server's TCP handshake. */
export const MAX_AGI_CONNECT_MS = 2000;

/** The handshake did not complete within connectTimeoutMs: Asterisk sets AGISTATUS=FAILURE. */
export class AgiConnectTimeout extends Error {
  readonly code = 'ETIMEDOUT';
}

/**
 * Plays one AGI() call against a FastAGI server; resolves when the connection is closed, rejects
 * when it cannot be opened (refused, or connectTimeoutMs).
 */
export function playAsteriskSession(options: PlayAsteriskOptions): Promise<AsteriskTranscript> {
  return new FakeAsterisk(options).run();
}

const MAX_ARGS = 128;

/**
 * Asterisk's parse_args() (res_agi.c): spaces and TABs split; `"` toggles quoting anywhere and
 * is removed (an opening quote after whitespace starts an argument, so `""` is an empty one);
 * `\` escapes the next character and is removed; nothing else is special.
 */
export function splitAsteriskArgs(line: string): string[] {
  const args: string[] = [];
  let current: string | undefined;
  let quoted = false;
  let escaped = false;
  const startArg = (): boolean => {
    if (current !== undefined) return true;
    if (args.length >= MAX_ARGS - 1) return false;
    current = '';
    return true;
  };
  const endArg = (): void => {
    if (current !== undefined) args.push(current);
    current = undefined;
  };
  for (const ch of line) {
    if (ch === '"' && !escaped) {
      quoted = !quoted;
      if (quoted) startArg();
    } else if ((ch === ' ' || ch === '\t') && !quoted && !escaped) {
      endArg();
    } else if (ch === '\\' && !escaped) {
      escaped = true;
      continue;
    } else if (startArg()) {
      current += ch;
    }
    escaped = false;
  }
  endArg();
  return args;
}

const USAGE_HEAD = '520-Invalid command syntax.  Proper usage follows:';
const USAGE_TAIL = '520 End of proper usage.';
const UNKNOWN = '510 Invalid or unknown command';
const DEAD = '511 Command Not Permitted on a dead channel or intercept routine';

/** Usage texts exactly as Asterisk 22.10.1 sent them (agi-commands-errors.json). */
const USAGE: Record<string, string[]> = {
  'set variable': ['Sets a variable to the current channel.'],
  'get variable': [
    'Returns <literal>0</literal> if <replaceable>variablename</replaceable> is not set. Returns <literal>1</literal> if <replaceable>variablename</replaceable> is set and returns the variable in parentheses.',
    'Example return code: 200 result=1 (testvariable)',
  ],
  verbose: [
    'Sends <replaceable>message</replaceable> to the console via verbose message system. <replaceable>level</replaceable> is the verbose level (1-4). Always returns <literal>1</literal>',
  ],
  exec: [
    'Executes <replaceable>application</replaceable> with given <replaceable>options</replaceable>.',
    'Returns whatever the <replaceable>application</replaceable> returns, or <literal>-2</literal> on failure to find <replaceable>application</replaceable>.',
    '<note>NOTE:</note> exec does not evaluate dialplan functions and variables unless it is explicitly enabled by setting the <variable>AGIEXECFULL</variable> variable to <literal>yes</literal>.',
  ],
};

/** `agi show commands` of Asterisk 22.10.1: the commands that still work on a dead channel. */
const DEAD_SAFE = new Set([
  'asyncagi break', 'database del', 'database deltree', 'database get', 'database put', 'exec',
  'get full variable', 'get variable', 'noop', 'set variable', 'verbose', 'speech destroy',
  'speech unload grammar',
]);
const OTHER_COMMANDS = [
  'answer', 'channel status', 'get data', 'get option', 'hangup', 'receive char', 'receive text',
  'record file', 'say alpha', 'say digits', 'say number', 'say phonetic', 'say date', 'say time',
  'say datetime', 'send image', 'send text', 'set autohangup', 'set callerid', 'set context',
  'set extension', 'set music', 'set priority', 'stream file', 'control stream file', 'tdd mode',
  'wait for digit', 'speech create', 'speech set', 'speech load grammar', 'speech activate grammar',
  'speech deactivate grammar', 'speech recognize', 'gosub',
];
/** Longest names first, so that `get full variable` wins over a shorter match. */
const COMMANDS = [...DEAD_SAFE, ...OTHER_COMMANDS].sort((a, b) => b.split(' ').length - a.split(' ').length);

function findCommand(args: string[]): string | undefined {
  const words = args.map((a) => a.toLowerCase());
  return COMMANDS.find((name) => name.split(' ').every((w, i) => words[i] === w));
}

const usage = (command: string): string => [USAGE_HEAD, ...(USAGE[command] ?? []), USAGE_TAIL].join('\n');

class FakeAsterisk {
  private readonly t0 = performance.now();
  private readonly socket: net.Socket;
  private readonly channelVariables: Map<string, string>;
  private readonly transcript: AsteriskTranscript;
  private readonly receivedChunks: Buffer[] = [];
  /** Bytes the kernel holds, not yet read(). */
  private kernel: Buffer[] = [];
  private kernelEof = false;
  /** Bytes already read() into the stdio buffer. */
  private stdio: Buffer = Buffer.alloc(0);
  private busyWith?: string;
  private dead: boolean;
  private answered = false;
  private hangupPending = false;
  private hangupsSinceReply = 0;
  private finished = false;
  private end?: AsteriskTranscript['end'];
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(private readonly options: PlayAsteriskOptions) {
    this.dead = options.deadChannel ?? false;
    this.channelVariables = new Map(Object.entries(options.channelVariables ?? {}));
    this.transcript = {
      commands: [],
      variables: new Map(),
      violations: [],
      hangupsSent: 0,
      received: '',
      end: 'server-fin',
      timings: { connectedMs: 0, envSentMs: 0, closedMs: 0 },
    };
    // A C socket: reading the server's FIN does not end our side; Asterisk closes when it is done.
    this.socket = new net.Socket({ allowHalfOpen: true });
  }

  run(): Promise<AsteriskTranscript> {
    const { socket, options } = this;
    return new Promise<AsteriskTranscript>((resolve, reject) => {
      let connected = false;
      socket.setNoDelay(true);
      const connectTimer =
        options.connectTimeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              socket.destroy();
              reject(new AgiConnectTimeout(`FastAGI connection timed out after MAX_AGI_CONNECT (${options.connectTimeoutMs}) milliseconds`));
            }, options.connectTimeoutMs);
      socket.once('connect', () => {
        clearTimeout(connectTimer);
        connected = true;
        this.transcript.timings.connectedMs = this.now();
        this.writeEnvironment();
        if (options.hangupAfterMs !== undefined) this.later(options.hangupAfterMs, () => this.hangUpChannel());
        const signal = options.hangupSignal;
        if (signal?.aborted) this.hangUpChannel();
        else signal?.addEventListener('abort', () => this.hangUpChannel(), { once: true });
        this.later(options.giveUpAfterMs ?? 10_000, () => this.giveUp());
      });
      socket.on('data', (chunk: Buffer) => this.onData(chunk));
      socket.on('end', () => {
        this.transcript.timings.serverFinMs = this.now();
        this.end ??= 'server-fin';
        this.kernelEof = true;
        this.pump();
      });
      socket.on('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(connectTimer);
        if (!connected) reject(err);
        else this.end ??= 'server-reset';
      });
      socket.on('close', () => {
        for (const timer of this.timers) clearTimeout(timer);
        if (!connected) return;
        this.transcript.timings.closedMs = this.now();
        this.transcript.end = this.end ?? 'server-reset';
        this.transcript.received = Buffer.concat(this.receivedChunks).toString('utf8');
        resolve(this.transcript);
      });
      socket.connect({ port: options.port, host: options.host ?? '127.0.0.1' });
    });
  }

  private writeEnvironment(): void {
    for (const [name, value] of this.options.env) this.socket.write(`${name}: ${value}\n`);
    this.socket.write('\n');
    this.transcript.timings.envSentMs = this.now();
  }

  private onData(chunk: Buffer): void {
    this.receivedChunks.push(chunk);
    if (this.finished) return;
    if (this.busyWith !== undefined) {
      this.violation(`bytes arrived before the reply to ${JSON.stringify(this.busyWith)}: ${JSON.stringify(chunk.toString())}`);
    }
    this.kernel.push(chunk);
    this.pump();
  }

  /** Asterisk's loop: wait until the socket is readable, fgets() one line, run it. */
  private pump(): void {
    while (this.busyWith === undefined && !this.finished) {
      if (this.kernel.length === 0 && !this.kernelEof) return;
      const line = this.fgets();
      if (line === undefined) return;
      if (line === null) {
        this.onEof();
        return;
      }
      this.runCommand(line);
    }
  }

  /** A line from the stdio buffer, reading the socket only when the buffer has none. */
  private fgets(): string | null | undefined {
    for (;;) {
      const lf = this.stdio.indexOf(0x0a);
      if (lf !== -1) {
        const line = this.stdio.toString('utf8', 0, lf);
        this.stdio = this.stdio.subarray(lf + 1);
        if (this.stdio.length > 0) {
          this.violation(`bytes behind ${JSON.stringify(line)} in the same read (pipelined): ${JSON.stringify(this.stdio.toString())}`);
        }
        return line;
      }
      if (this.kernel.length > 0) {
        this.stdio = Buffer.concat([this.stdio, ...this.kernel]);
        this.kernel = [];
        continue;
      }
      if (!this.kernelEof) return undefined;
      if (this.stdio.length === 0) return null;
      const partial = this.stdio.toString('utf8');
      this.stdio = Buffer.alloc(0);
      return partial;
    }
  }

  private runCommand(line: string): void {
    this.busyWith = line;
    if (line.includes('\r')) this.violation(`CR in command ${JSON.stringify(line)}: Asterisk keeps it in the last argument`);
    const args = splitAsteriskArgs(line);
    const record: AsteriskCommand = { line, args, reply: null, receivedAtMs: this.now(), hangupsBefore: this.hangupsSinceReply };
    this.transcript.commands.push(record);
    let standard: string | undefined;
    const context: AsteriskReplyContext = { defaultReply: () => (standard ??= this.defaultReply(args)) };
    const reply = this.options.replies ? this.options.replies(line, context) : context.defaultReply();
    if (reply === null) return;
    const send = (): void => {
      if (this.finished || this.socket.destroyed) return;
      const [first, ...rest] = reply.split('\n');
      // Asterisk writes a usage reply's first line on its own, the rest later.
      this.socket.write(`${first}\n`);
      if (rest.length > 0) this.socket.write(`${rest.join('\n')}\n`);
      record.reply = reply;
      record.repliedAtMs = this.now();
      this.hangupsSinceReply = 0;
      this.busyWith = undefined;
      if (this.hangupPending) this.hangUpChannel();
      this.pump();
    };
    const delay = this.options.replyDelayMs ?? 0;
    if (delay > 0) this.later(delay, send);
    else send();
  }

  private defaultReply(args: string[]): string {
    const command = args.length > 0 ? findCommand(args) : undefined;
    if (!command) return UNKNOWN;
    if (this.dead && !DEAD_SAFE.has(command)) return DEAD;
    switch (command) {
      case 'set variable': {
        const [, , name, value] = args;
        if (args.length !== 4 || name === undefined || value === undefined) return usage(command);
        this.channelVariables.set(name, value);
        this.transcript.variables.set(name, value);
        return '200 result=1';
      }
      case 'get variable': {
        const name = args[2];
        if (args.length !== 3 || name === undefined) return usage(command);
        const value = this.channelVariables.get(name);
        return value === undefined ? '200 result=0' : `200 result=1 (${Buffer.from(value).subarray(0, 1023).toString()})`;
      }
      case 'verbose':
        return args.length < 2 ? usage(command) : '200 result=1';
      case 'exec':
        return args.length < 2 ? usage(command) : '200 result=0';
      case 'noop':
        return '200 result=0';
      case 'answer':
        this.answered = true;
        return '200 result=0';
      case 'channel status':
        return `200 result=${this.answered ? 6 : 4}`;
      case 'hangup':
        this.hangupPending = true;
        return '200 result=1';
      default:
        return '200 result=0';
    }
  }

  /** The channel hangs up; Asterisk says so at once unless it is busy running a command. */
  private hangUpChannel(): void {
    if (this.finished) return;
    if (this.busyWith !== undefined) {
      this.hangupPending = true;
      return;
    }
    this.hangupPending = false;
    if (this.dead) return;
    this.dead = true;
    if (this.options.sigHup === false) return;
    this.writeHangup();
    if (this.options.exitOnHangup) {
      this.writeHangup();
      this.finished = true;
      this.end ??= 'asterisk-exit';
      this.socket.end(() => this.socket.destroy());
    }
  }

  /** read() returned 0: the server half-closed. Asterisk says HANGUP and closes. */
  private onEof(): void {
    this.finished = true;
    if (this.options.sigHup !== false) this.writeHangup();
    this.socket.end();
  }

  private writeHangup(): void {
    this.socket.write('HANGUP\n');
    this.transcript.hangupsSent++;
    this.hangupsSinceReply++;
  }

  private giveUp(): void {
    this.violation(`the server did not close the session within ${this.options.giveUpAfterMs ?? 10_000} ms`);
    this.end ??= 'gave-up';
    this.finished = true;
    this.socket.destroy();
  }

  private violation(message: string): void {
    this.transcript.violations.push(message);
  }

  private later(ms: number, fn: () => void): void {
    this.timers.push(setTimeout(fn, ms));
  }

  private now(): number {
    return performance.now() - this.t0;
  }
}

export interface AgiEnvFields {
  /** Script path and query as in the AGI URL, without the leading `/`: `authorize?src=lab`. */
  script: string;
  /** The URL as written in the dialplan; default `agi://127.0.0.1:4573/SCRIPT`. */
  request?: string;
  args: readonly string[];
  channel?: string;
  uniqueid?: string;
  callerid?: string;
  calleridname?: string;
  dnid?: string;
  context?: string;
  extension?: string;
  priority?: string;
  threadid?: string;
}

/** An environment in Asterisk 22's order (agi-notes.md), defaults from agi-authorize-pjsip.json. */
export function agiEnv(fields: AgiEnvFields): Array<[string, string]> {
  const channel = fields.channel ?? 'PJSIP/1001-00000001';
  const isLocal = channel.startsWith('Local/');
  return [
    ['agi_network', 'yes'],
    ['agi_network_script', fields.script],
    ['agi_request', fields.request ?? `agi://127.0.0.1:4573/${fields.script}`],
    ['agi_channel', channel],
    ['agi_language', 'en'],
    ['agi_type', channel.slice(0, Math.max(0, channel.indexOf('/')))],
    ['agi_uniqueid', fields.uniqueid ?? '1795264997.1'],
    ['agi_version', '22.10.1'],
    ['agi_callerid', fields.callerid ?? '1001'],
    ['agi_calleridname', fields.calleridname ?? 'Lab 1001'],
    ['agi_callingpres', '0'],
    ['agi_callingani2', '0'],
    ['agi_callington', '0'],
    ['agi_callingtns', '0'],
    ['agi_dnid', isLocal ? 'unknown' : (fields.dnid ?? fields.extension ?? 'unknown')],
    ['agi_rdnis', 'unknown'],
    ['agi_context', fields.context ?? 'dg-authorize'],
    ['agi_extension', fields.extension ?? 's'],
    ['agi_priority', fields.priority ?? '2'],
    ['agi_enhanced', '0.0'],
    ['agi_accountcode', ''],
    ['agi_threadid', fields.threadid ?? '140405801858752'],
    ...fields.args.map((arg, i): [string, string] => [`agi_arg_${i + 1}`, arg]),
  ];
}

export interface AuthorizeEnvFields {
  ext: string;
  number: string;
  source: string;
  origin: string;
  channel?: string;
  uniqueid?: string;
  /** Query string of the AGI URL, without `?`, as written in the dialplan (not encoded here). */
  query?: string;
}

/** `AGI(agi://127.0.0.1:4573/authorize,EXT,NUMBER,SOURCE,ORIGIN)` from a PJSIP (or given) channel. */
export function authorizeEnv(fields: AuthorizeEnvFields): Array<[string, string]> {
  return agiEnv({
    script: fields.query ? `authorize?${fields.query}` : 'authorize',
    args: [fields.ext, fields.number, fields.source, fields.origin],
    channel: fields.channel ?? `PJSIP/${fields.ext}-00000001`,
    uniqueid: fields.uniqueid,
    callerid: fields.ext,
    calleridname: `Lab ${fields.ext}`,
    extension: fields.number,
  });
}

export interface SettleEnvFields {
  callId: string;
  /** `${ANSWEREDTIME}`: whole seconds, empty when not answered. */
  answeredTime: string;
  dialStatus: string;
  channel?: string;
  uniqueid?: string;
}

/** `AGI(agi://127.0.0.1:4573/settle,CALL_ID,ANSWEREDTIME,DIALSTATUS)` from the hangup handler. */
export function settleEnv(fields: SettleEnvFields): Array<[string, string]> {
  return agiEnv({
    script: 'settle',
    args: [fields.callId, fields.answeredTime, fields.dialStatus],
    channel: fields.channel,
    uniqueid: fields.uniqueid,
    dnid: '0044207946000',
    context: 'dialguard-hangup',
    extension: 's',
    priority: '2',
  });
}
