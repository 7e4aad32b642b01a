/**
 * A test double of Asterisk 22's PBX core for the constructs the shipped dialplan uses: it runs
 * a channel through the priorities of a parsed extensions.conf, and talks to real guards over
 * the FastAGI double (asterisk-agi.ts) and the ARI double (asterisk-ari.ts).
 *
 * What it follows, from the recordings in shared/asterisk:
 * - A priority's data is expanded when that priority runs, innermost `${…}`/`$[…]` first, so
 *   ExecIf() and IF() expand both branches before testing (dialplan-deadline.md (b)). Reading
 *   CHANNEL(recvip) on anything but chan_sip logs func_channel.c's WARNING.
 * - Gosub() pushes a frame: ARGn and LOCAL() variables live in it and are gone after Return().
 * - TIMEOUT(absolute) arms a per-channel deadline (`=0` clears it, reading it gives the seconds
 *   left). When it fires the channel is hung up under the application running:
 *   AGI() gets "HANGUP\n" and, with AGIEXITONHANGUP, returns at once, without it only when the
 *   guard closes (dialplan-deadline.md (a), 901/902/912); Stasis() returns at once (921). The
 *   priority after the application never runs: the PBX jumps to `T,1` of the context the channel
 *   is in, with the timeout cleared, or without a T hangs up with cause 0 (903, 904, 922, 923).
 * - AGI() that cannot connect sets AGISTATUS=FAILURE: refused at once, no handshake after
 *   MAX_AGI_CONNECT (agi-server-down.json). res_agi.c polls that connect without looking at the
 *   channel, so a deadline that passes during it is acted on when AGI() returns.
 * - Stasis() with no app connected: STASISSTATUS=FAILED at once (ari-errors.json); in a hangup
 *   handler StasisStart and StasisEnd come together (ari-settle-session.json).
 * - Dial() does not dial `L(0)` or a non-numeric limit (dialplan-facts.md); otherwise the call
 *   is answered as the test says. Playback() takes no real time: its duration is counted in
 *   the caller's view (`finalAtMs`).
 * - At hangup: the `h` extension of the context the channel is in, if any, then the hangup
 *   handlers, last pushed first, on a dead channel.
 * Anything else (an application, a function or a CHANNEL() item it does not know) throws, so a
 * construct the double does not model cannot pass a test by accident.
 */
import { performance } from 'node:perf_hooks';
import { agiEnv, MAX_AGI_CONNECT_MS, playAsteriskSession, type AsteriskTranscript } from './asterisk-agi.js';
import type { AriChannel, AsteriskAri } from './asterisk-ari.js';
import type { DialplanConf, Priority } from './dialplan-conf.js';

export interface ChannelSpec {
  /** CHANNEL(channeltype). */
  tech: 'PJSIP' | 'SIP' | 'Local';
  /** PJSIP: CHANNEL(endpoint). chan_sip: CHANNEL(peername). */
  endpoint?: string;
  /** PJSIP: CHANNEL(pjsip,remote_addr), `192.168.1.20:5060`. */
  remoteAddr?: string;
  /** chan_sip: CHANNEL(recvip), a bare address. */
  recvip?: string;
  callerId: string;
  /** Default from the tech and caller: `PJSIP/1001-00000001`. */
  name?: string;
  uniqueid?: string;
  /** `Up` for a channel already answered (voicemail). Default `Ring`. */
  state?: 'Ring' | 'Up';
}

export interface DialAttempt {
  data: string;
  /** The L() limit in ms as Dial parses it; null when Dial has no L() or an empty one (no limit). */
  limitMs: number | null;
  /** Seconds left on TIMEOUT(absolute) when Dial started; 0: none armed. */
  absoluteTimeoutS: number;
  placed: boolean;
  atMs: number;
}

export interface DialOutcome {
  dialStatus: string;
  /** `${ANSWEREDTIME}`: whole seconds, empty when not answered. */
  answeredTime: string;
}

export interface PlaceCallOptions {
  dialplan: DialplanConf;
  context: string;
  exten: string;
  channel: ChannelSpec;
  /** [globals] as an admin would edit them. */
  globals?: Record<string, string>;
  /** Channel variables set before the call reaches `context` (e.g. AGIEXITONHANGUP). */
  variables?: Record<string, string>;
  /** For Stasis(). */
  ari?: AsteriskAri;
  /** What a placed Dial() gives; the caller then hangs up (cause 16). Default answered 4 s. */
  dial?: (attempt: DialAttempt) => DialOutcome | Promise<DialOutcome>;
  /** Playback() durations in ms, counted in finalAtMs. */
  playbackMs?: Record<string, number>;
  /** Asterisk waits for a silent guard forever; the double fails the call after this. Default 20000. */
  agiGiveUpAfterMs?: number;
}

export interface AgiAttempt {
  url: string;
  args: string[];
  status: 'SUCCESS' | 'FAILURE' | 'HANGUP';
  /** The session as the guard saw it; absent when it could not connect. */
  transcript?: AsteriskTranscript;
  startedMs: number;
  endedMs: number;
  deadChannel: boolean;
}

export interface StasisAttempt {
  args: string[];
  status: 'SUCCESS' | 'FAILED';
  exit: string;
  channel: AriChannel;
  deadChannel: boolean;
}

export interface HandlerRun {
  location: string;
  /** Channel variables when the handler started. */
  variables: Record<string, string>;
}

export interface CallRecord {
  /** Asterisk-like log lines: `Executing [exten@context:n] App("chan", "data")`, WARNINGs, Verbose output. */
  log: string[];
  warnings: string[];
  /** Every priority run, as `exten@context:n`. */
  executed: string[];
  agi: AgiAttempt[];
  stasis: StasisAttempt[];
  dials: DialAttempt[];
  /** TIMEOUT(absolute) as set, in order, with where. */
  timeouts: Array<{ value: string; at: string; atMs: number }>;
  /** When the absolute timeout fired, and where the channel was. */
  deadlines: Array<{ atMs: number; at: string }>;
  playbacks: string[];
  progressAtMs?: number;
  hangupCause: number;
  /** What the SIP caller receives last: `403 Forbidden` (cause 21), `603 Decline` (cause 0), or `BYE` for an answered call. */
  final: string;
  /** Real time to the hangup plus the Playback() durations. */
  finalAtMs: number;
  /** Channel variables at hangup. */
  variables: Record<string, string>;
  handlers: HandlerRun[];
  /** Channel variables after the h extension and the hangup handlers (DIALGUARD_SETTLED). */
  finalVariables: Record<string, string>;
}

interface Location {
  context: string;
  exten: string;
  /** Index into the extension's priorities. */
  index: number;
}

interface Frame {
  locals: Map<string, string>;
  /** Where Return() goes; null ends a hangup handler. */
  returnTo: Location | null;
}

type Step = { next: true } | { jump: Location } | { stop: true };

const NEXT: Step = { next: true };
const STOP: Step = { stop: true };

export function placeCall(options: PlaceCallOptions): Promise<CallRecord> {
  return new Pbx(options).run();
}

class Pbx {
  private readonly t0 = performance.now();
  private readonly channelVars = new Map<string, string>();
  private readonly globals: Map<string, string>;
  private readonly frames: Frame[] = [];
  private readonly handlers: string[] = [];
  private readonly name: string;
  private readonly uniqueid: string;
  private state: 'Ring' | 'Up';
  private dead = false;
  private virtualMs = 0;
  private location: Location;
  /** Epoch (performance.now) of the absolute timeout, or null. */
  private timeoutAt: number | null = null;
  private timeoutTimer?: NodeJS.Timeout;
  private timedOut = false;
  /** Hangs the application that is running up when the absolute timeout fires. */
  private onTimeout?: () => void;
  private readonly record: CallRecord = {
    log: [],
    warnings: [],
    executed: [],
    agi: [],
    stasis: [],
    dials: [],
    timeouts: [],
    deadlines: [],
    playbacks: [],
    hangupCause: 0,
    final: '',
    finalAtMs: 0,
    variables: {},
    handlers: [],
    finalVariables: {},
  };

  constructor(private readonly options: PlaceCallOptions) {
    const { channel } = options;
    this.globals = new Map([...options.dialplan.globals, ...Object.entries(options.globals ?? {})]);
    for (const [k, v] of Object.entries(options.variables ?? {})) this.channelVars.set(k, v);
    this.name = channel.name ?? (channel.tech === 'Local' ? `Local/${options.exten}@${options.context}-00000001;2` : `${channel.tech}/${channel.callerId}-00000001`);
    this.uniqueid = channel.uniqueid ?? '1796163213.7';
    this.state = channel.state ?? 'Ring';
    const start = this.find(options.context, options.exten, 1);
    if (!start) throw new Error(`no ${options.exten}@${options.context} in the dialplan`);
    this.location = start;
  }

  async run(): Promise<CallRecord> {
    try {
      await this.execute();
      if (!this.dead) this.hangUp(0);
      const hungUpAt = this.location;
      this.record.variables = Object.fromEntries(this.channelVars);
      if (this.extensionOf(hungUpAt.context, 'h')) {
        this.location = { context: hungUpAt.context, exten: 'h', index: 0 };
        await this.execute();
      }
      while (this.handlers.length > 0) await this.runHandler(this.handlers.pop() as string);
      this.record.finalVariables = Object.fromEntries(this.channelVars);
      return this.record;
    } finally {
      clearTimeout(this.timeoutTimer);
    }
  }

  // ---- the PBX loop -------------------------------------------------------------------------

  /** Runs priorities from this.location until the channel hangs up or a handler's frame returns. */
  private async execute(): Promise<void> {
    for (;;) {
      const priority = this.priorityAt(this.location);
      if (!priority) {
        // Auto fallthrough: no more priorities.
        if (!this.dead) this.hangUp(0);
        return;
      }
      const at = `${priority.exten}@${this.location.context}:${priority.number}`;
      this.record.executed.push(at);
      const data = this.expand(priority.data);
      this.log(`pbx.c: Executing [${at}] ${priority.app}("${this.name}", "${data}") in new stack`);
      const step = await this.exec(priority.app, data);
      if (this.timedOut && !this.dead) {
        // The application was cut off by the absolute timeout: its next priority does not run.
        this.timedOut = false;
        this.timeoutAt = null;
        this.record.deadlines.push({ atMs: this.now(), at });
        if (this.extensionOf(this.location.context, 'T')) {
          this.location = { context: this.location.context, exten: 'T', index: 0 };
          continue;
        }
        this.hangUp(0);
        return;
      }
      if ('stop' in step) return;
      if ('jump' in step) this.location = step.jump;
      else this.location = { ...this.location, index: this.location.index + 1 };
    }
  }

  private async runHandler(target: string): Promise<void> {
    const { location, args } = this.parseGosubTarget(target);
    this.record.handlers.push({ location: target, variables: Object.fromEntries(this.channelVars) });
    this.pushFrame(args, null);
    this.location = location;
    await this.execute();
  }

  private async exec(app: string, data: string): Promise<Step> {
    switch (app) {
      case 'Set':
        this.set(data);
        return NEXT;
      case 'GotoIf':
        return this.gotoIf(data);
      case 'Goto':
        return { jump: this.resolveLabel(data) };
      case 'ExecIf':
        return this.execIf(data);
      case 'Gosub':
        return this.gosub(data);
      case 'Return':
        return this.return();
      case 'AGI':
        return this.agi(data);
      case 'Stasis':
        return this.stasis(data);
      case 'Dial':
        return this.dial(data);
      case 'Verbose': {
        const [level, message] = splitFirst(data, ',');
        this.log(`app_verbose.c: ${message !== undefined && /^\d+$/.test(level) ? message : data}`);
        return NEXT;
      }
      case 'Log': {
        const [level, message] = splitFirst(data, ',');
        this.log(`${level} app_log: ${message ?? ''}`, level === 'WARNING' || level === 'ERROR');
        return NEXT;
      }
      case 'NoOp':
        return NEXT;
      case 'Progress':
        if (this.state === 'Ring' && this.record.progressAtMs === undefined) this.record.progressAtMs = this.now();
        return NEXT;
      case 'Answer':
        this.state = 'Up';
        return NEXT;
      case 'Playback': {
        const [files = '', opts = ''] = splitArgs(data);
        if (this.state !== 'Up' && !opts.split('&').includes('noanswer')) this.state = 'Up';
        for (const file of files.split('&')) {
          this.record.playbacks.push(file);
          this.virtualMs += this.options.playbackMs?.[file] ?? 0;
        }
        return NEXT;
      }
      case 'Hangup':
        this.hangUp(data === '' ? 0 : Number(data));
        return STOP;
      default:
        throw new Error(`the dialplan double does not know the application ${app}(${data})`);
    }
  }

  // ---- applications -------------------------------------------------------------------------

  private set(data: string): void {
    const eq = data.indexOf('=');
    if (eq < 0) throw new Error(`Set(${data}): no "="`);
    const name = data.slice(0, eq);
    const value = data.slice(eq + 1);
    const fn = /^([A-Z_]+)\((.*)\)$/.exec(name);
    if (!fn) {
      const frame = [...this.frames].reverse().find((f) => f.locals.has(name));
      if (frame) frame.locals.set(name, value);
      else this.channelVars.set(name, value);
      return;
    }
    const [, func, arg] = fn as unknown as [string, string, string];
    if (func === 'LOCAL') {
      const frame = this.frames.at(-1);
      if (!frame) throw new Error(`Set(LOCAL(${arg})) outside a Gosub`);
      frame.locals.set(arg, value);
    } else if (func === 'TIMEOUT' && arg === 'absolute') {
      this.setAbsoluteTimeout(value);
    } else if (func === 'CHANNEL' && arg === 'hangup_handler_push') {
      this.handlers.push(value);
    } else {
      throw new Error(`the dialplan double cannot Set(${name})`);
    }
  }

  private setAbsoluteTimeout(value: string): void {
    const seconds = Number(value);
    if (!Number.isFinite(seconds) || seconds < 0) throw new Error(`TIMEOUT(absolute)=${value}: not a number of seconds`);
    this.record.timeouts.push({ value, at: this.here(), atMs: this.now() });
    clearTimeout(this.timeoutTimer);
    this.timedOut = false;
    if (seconds === 0) {
      this.timeoutAt = null;
      this.log('func_timeout.c: Channel hangup cancelled.');
      return;
    }
    this.timeoutAt = performance.now() + seconds * 1000;
    this.log(`func_timeout.c: Channel will hangup in ${seconds} s.`);
    this.timeoutTimer = setTimeout(() => {
      this.timedOut = true;
      this.onTimeout?.();
    }, seconds * 1000);
  }

  private gotoIf(data: string): Step {
    const [condition, branches = ''] = splitFirst(data, '?');
    const [ifTrue, ifFalse = ''] = splitFirst(branches, ':');
    const target = isTrue(condition) ? ifTrue : ifFalse;
    return target === '' ? NEXT : { jump: this.resolveLabel(target) };
  }

  private async execIf(data: string): Promise<Step> {
    // The whole argument was expanded before ExecIf ran: the branch runs with that text as is.
    const [condition, branches = ''] = splitFirst(data, '?');
    const [ifTrue = '', ifFalse = ''] = splitArgs(branches, ':');
    const branch: string = isTrue(condition) ? ifTrue : ifFalse;
    if (branch === '') return NEXT;
    const open = branch.indexOf('(');
    const app = open < 0 ? branch : branch.slice(0, open);
    const args = open < 0 ? '' : branch.slice(open + 1, branch.lastIndexOf(')'));
    return this.exec(app, args);
  }

  private gosub(data: string): Step {
    const { location, args } = this.parseGosubTarget(data);
    this.pushFrame(args, { ...this.location, index: this.location.index + 1 });
    return { jump: location };
  }

  private return(): Step {
    const frame = this.frames.pop();
    if (!frame) throw new Error('Return() without Gosub()');
    return frame.returnTo ? { jump: frame.returnTo } : STOP;
  }

  private pushFrame(args: string[], returnTo: Location | null): void {
    const locals = new Map<string, string>(args.map((a, i) => [`ARG${i + 1}`, a]));
    locals.set('ARGC', String(args.length));
    this.frames.push({ locals, returnTo });
  }

  private async agi(data: string): Promise<Step> {
    const [url = '', ...args] = splitArgs(data);
    const target = /^agi:\/\/([^/:]+)(?::(\d+))?\/(.*)$/.exec(url);
    if (!target) throw new Error(`the dialplan double only speaks agi:// (got ${url})`);
    const [, host, port = '4573', script] = target as unknown as [string, string, string | undefined, string];
    const deadChannel = this.dead;
    const hangup = new AbortController();
    if (!deadChannel) {
      this.onTimeout = () => hangup.abort();
      if (this.timedOut) hangup.abort();
    }
    const attempt: AgiAttempt = { url, args, status: 'FAILURE', startedMs: this.now(), endedMs: 0, deadChannel };
    this.record.agi.push(attempt);
    try {
      const transcript = await playAsteriskSession({
        host,
        port: Number(port),
        env: agiEnv({
          script,
          request: url,
          args,
          channel: this.name,
          uniqueid: this.uniqueid,
          callerid: this.options.channel.callerId,
          context: this.location.context,
          extension: this.location.exten,
          priority: String(this.priorityAt(this.location)?.number ?? 1),
        }),
        deadChannel,
        exitOnHangup: isAstTrue(this.variable('AGIEXITONHANGUP')),
        hangupSignal: hangup.signal,
        connectTimeoutMs: MAX_AGI_CONNECT_MS,
        giveUpAfterMs: this.options.agiGiveUpAfterMs ?? 20_000,
      });
      if (transcript.end === 'gave-up') {
        throw new Error(`AGI(${url}) still waiting for the guard after ${this.options.agiGiveUpAfterMs ?? 20_000} ms: Asterisk would wait forever`);
      }
      attempt.transcript = transcript;
      // SET VARIABLE takes effect at once, also on a dead channel (agi-caller-hangup.json).
      for (const [name, value] of transcript.variables) this.channelVars.set(name, value);
      attempt.status = !deadChannel && hangup.signal.aborted ? 'HANGUP' : 'SUCCESS';
    } catch (err) {
      if (err instanceof Error && err.message.startsWith('AGI(')) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      this.log(
        code === 'ETIMEDOUT'
          ? `WARNING res_agi.c: FastAGI connection to '${url}' timed out after MAX_AGI_CONNECT (${MAX_AGI_CONNECT_MS}) milliseconds.`
          : `WARNING res_agi.c: Connecting to '${host}:${port}' failed for url '${url}': ${code === 'ECONNREFUSED' ? 'Connection refused' : String(code)}`,
        true,
      );
      this.log("WARNING res_agi.c: Couldn't connect to any host.  FastAGI failed.", true);
      attempt.status = 'FAILURE';
    } finally {
      this.onTimeout = undefined;
      attempt.endedMs = this.now();
    }
    this.channelVars.set('AGISTATUS', attempt.status);
    if (attempt.status === 'HANGUP' && !this.timedOut) {
      this.hangUp(0);
      return STOP;
    }
    return NEXT;
  }

  private async stasis(data: string): Promise<Step> {
    const ari = this.options.ari;
    if (!ari) throw new Error('Stasis() needs the ARI double (options.ari)');
    const [app = '', ...args] = splitArgs(data);
    const snapshot = { app, caller: this.options.channel.callerId, context: this.location.context, exten: this.location.exten, priority: this.priorityAt(this.location)?.number ?? 1, state: this.state };
    const deadChannel = this.dead;
    const channel = deadChannel ? ari.stasisOnDeadChannel(args, snapshot) : ari.stasis(args, snapshot);
    const attempt: StasisAttempt = { args, status: channel.status, exit: '', channel, deadChannel };
    this.record.stasis.push(attempt);
    if (channel.status === 'FAILED') {
      this.log(`WARNING app_stasis.c: ${this.name}: Stasis app '${app}' doesn't exist.`, true);
    } else if (!deadChannel) {
      this.onTimeout = () => ari.timeOut(channel);
      if (this.timedOut) ari.timeOut(channel);
    }
    try {
      attempt.exit = await channel.left;
    } finally {
      this.onTimeout = undefined;
    }
    for (const [name, value] of channel.variables) this.channelVars.set(name, value);
    this.channelVars.set('STASISSTATUS', channel.status);
    return NEXT;
  }

  private async dial(data: string): Promise<Step> {
    const [, , opts = ''] = splitArgs(data);
    const l = /L\(([^)]*)\)/.exec(opts);
    const limitText = l ? (l[1] as string).split(':')[0] ?? '' : '';
    const limitMs = limitText === '' ? null : Number.parseInt(limitText, 10);
    const placed = limitMs === null || (Number.isFinite(limitMs) && limitMs !== 0);
    const attempt: DialAttempt = { data, limitMs, absoluteTimeoutS: this.timeoutLeftS(), placed, atMs: this.now() };
    this.record.dials.push(attempt);
    if (!placed) {
      this.log(`WARNING features.c: Bridge does not accept L(${limitText})`, true);
      this.hangUp(0);
      return STOP;
    }
    const outcome = (await this.options.dial?.(attempt)) ?? { dialStatus: 'ANSWER', answeredTime: '4' };
    this.channelVars.set('DIALSTATUS', outcome.dialStatus);
    this.channelVars.set('ANSWEREDTIME', outcome.answeredTime);
    if (outcome.dialStatus === 'ANSWER') this.state = 'Up';
    this.hangUp(16);
    return STOP;
  }

  private hangUp(cause: number): void {
    if (this.dead) return;
    this.dead = true;
    clearTimeout(this.timeoutTimer);
    this.timeoutAt = null;
    this.record.hangupCause = cause;
    this.channelVars.set('HANGUPCAUSE', String(cause));
    this.record.final = this.state === 'Up' ? 'BYE' : cause === 21 ? '403 Forbidden' : cause === 0 ? '603 Decline' : `cause ${cause}`;
    this.record.finalAtMs = this.now() + this.virtualMs;
  }

  // ---- expansion ----------------------------------------------------------------------------

  /** pbx_substitute_variables: innermost first, every `${…}` and `$[…]` of the text. */
  private expand(text: string): string {
    let out = '';
    for (let i = 0; i < text.length; i++) {
      if (text[i] === '$' && (text[i + 1] === '{' || text[i + 1] === '[')) {
        const open = text[i + 1] as '{' | '[';
        const close = open === '{' ? '}' : ']';
        let depth = 1;
        let j = i + 2;
        for (; j < text.length && depth > 0; j++) {
          if (text[j] === open) depth++;
          else if (text[j] === close) depth--;
        }
        if (depth > 0) throw new Error(`unbalanced ${open} in ${text}`);
        const inner = this.expand(text.slice(i + 2, j - 1));
        out += open === '{' ? this.resolve(inner) : evaluateExpression(inner);
        i = j - 1;
      } else {
        out += text[i];
      }
    }
    return out;
  }

  private resolve(name: string): string {
    const fn = /^([A-Z_]+)\((.*)\)$/s.exec(name);
    if (fn) return this.call(fn[1] as string, fn[2] as string);
    const sub = /^([^:]+)(?::(-?\d+)(?::(\d+))?)?$/.exec(name);
    const value = this.variable(sub?.[1] ?? name);
    if (!sub?.[2]) return value;
    const offset = Number(sub[2]);
    const start = offset < 0 ? Math.max(0, value.length + offset) : offset;
    return sub[3] === undefined ? value.slice(start) : value.slice(start, start + Number(sub[3]));
  }

  private variable(name: string): string {
    switch (name) {
      case 'EXTEN':
        return this.location.exten;
      case 'CONTEXT':
        return this.location.context;
      case 'CHANNEL':
        return this.name;
      case 'UNIQUEID':
        return this.uniqueid;
    }
    const inner = this.frames.at(-1);
    if (/^ARG\d+$|^ARGC$/.test(name)) return inner?.locals.get(name) ?? '';
    for (let f = this.frames.length - 1; f >= 0; f--) {
      const value = this.frames[f]?.locals.get(name);
      if (value !== undefined) return value;
    }
    return this.channelVars.get(name) ?? this.globals.get(name) ?? '';
  }

  private call(func: string, arg: string): string {
    switch (func) {
      case 'CHANNEL':
        return this.channelItem(arg);
      case 'CALLERID':
        if (arg === 'num') return this.options.channel.callerId;
        throw new Error(`CALLERID(${arg}) is not modelled`);
      case 'IF': {
        // Both branches were expanded already; the first ':' after '?' separates them.
        const [condition, branches = ''] = splitFirst(arg, '?');
        const [ifTrue, ifFalse = ''] = splitFirst(branches, ':');
        return isTrue(condition) ? ifTrue : ifFalse;
      }
      case 'TIMEOUT':
        if (arg === 'absolute') return String(this.timeoutLeftS());
        throw new Error(`TIMEOUT(${arg}) is not modelled`);
      case 'LOCAL':
        return this.variable(arg);
      default:
        throw new Error(`the dialplan double does not know the function ${func}(${arg})`);
    }
  }

  private channelItem(item: string): string {
    const { channel } = this.options;
    const unavailable = (): string => {
      this.log(`WARNING func_channel.c: Unknown or unavailable item requested: '${item}'`, true);
      return '';
    };
    switch (item) {
      case 'channeltype':
        return channel.tech;
      case 'state':
        return this.state;
      case 'endpoint':
        return channel.tech === 'PJSIP' ? (channel.endpoint ?? '') : unavailable();
      case 'pjsip,remote_addr':
        return channel.tech === 'PJSIP' ? (channel.remoteAddr ?? '') : unavailable();
      case 'recvip':
        return channel.tech === 'SIP' ? (channel.recvip ?? '') : unavailable();
      case 'peername':
        return channel.tech === 'SIP' ? (channel.endpoint ?? '') : unavailable();
      default:
        throw new Error(`CHANNEL(${item}) is not modelled`);
    }
  }

  // ---- locations ----------------------------------------------------------------------------

  private parseGosubTarget(data: string): { location: Location; args: string[] } {
    const open = data.indexOf('(');
    const where = open < 0 ? data : data.slice(0, open);
    const args = open < 0 ? [] : splitArgs(data.slice(open + 1, data.lastIndexOf(')')));
    return { location: this.resolveLabel(where), args };
  }

  /** `label`, `priority`, `exten,label` or `context,exten,label`, as Goto() takes them. */
  private resolveLabel(target: string): Location {
    const parts = target.split(',').map((p) => p.trim());
    const [context, exten, label] =
      parts.length === 3 ? parts : parts.length === 2 ? [this.location.context, ...parts] : [this.location.context, this.location.exten, parts[0]];
    const found = this.find(context as string, exten as string, label as string);
    if (!found) throw new Error(`no priority ${target} from ${this.here()}`);
    return found;
  }

  private find(context: string, exten: string, label: string | number): Location | undefined {
    const extensions = this.options.dialplan.extensions.get(context);
    if (!extensions) return undefined;
    const name = [...extensions.keys()].find((pattern) => matches(pattern, exten));
    if (name === undefined) return undefined;
    const priorities = extensions.get(name) as Priority[];
    const index = priorities.findIndex((p) => p.label === String(label) || String(p.number) === String(label));
    return index < 0 ? undefined : { context, exten, index };
  }

  private extensionOf(context: string, exten: string): boolean {
    return this.find(context, exten, 1) !== undefined;
  }

  private priorityAt(location: Location): Priority | undefined {
    const extensions = this.options.dialplan.extensions.get(location.context);
    const name = extensions ? [...extensions.keys()].find((pattern) => matches(pattern, location.exten)) : undefined;
    return name === undefined ? undefined : extensions?.get(name)?.[location.index];
  }

  private here(): string {
    const p = this.priorityAt(this.location);
    return `${this.location.exten}@${this.location.context}:${p?.number ?? '?'}`;
  }

  private timeoutLeftS(): number {
    if (this.timeoutAt === null) return 0;
    return Math.max(0, Math.round(this.timeoutAt - performance.now())) / 1000;
  }

  private log(line: string, warning = false): void {
    this.record.log.push(line);
    if (warning) this.record.warnings.push(line);
  }

  private now(): number {
    return performance.now() - this.t0;
  }
}

/** An extension pattern (`_X.`, `_NXX`, `_[1-5]!`) or a literal name. */
function matches(pattern: string, exten: string): boolean {
  if (!pattern.startsWith('_')) return pattern === exten;
  let re = '';
  for (let i = 1; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === 'X') re += '[0-9]';
    else if (c === 'Z') re += '[1-9]';
    else if (c === 'N') re += '[2-9]';
    else if (c === '.') re += '.+';
    else if (c === '!') re += '.*';
    else if (c === '[') {
      const end = pattern.indexOf(']', i);
      re += pattern.slice(i, end + 1);
      i = end;
    } else re += c.replace(/[\\^$*+?()|{}]/g, '\\$&');
  }
  return new RegExp(`^${re}$`).test(exten);
}

/** pbx_checkcondition: empty is false, a number is its value, any other text is true. */
function isTrue(condition: string): boolean {
  const c = condition.trim();
  if (c === '') return false;
  const n = Number(c);
  return Number.isNaN(n) ? true : n !== 0;
}

/** ast_true(). */
function isAstTrue(value: string): boolean {
  return ['yes', 'true', 'y', 't', '1', 'on'].includes(value.trim().toLowerCase());
}

function splitFirst(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + separator.length)];
}

/**
 * ast_app_separate_args: splits on `separator` outside parentheses and double quotes; the
 * quotes themselves are removed.
 */
function splitArgs(text: string, separator = ','): string[] {
  const args: string[] = [];
  let current = '';
  let depth = 0;
  let quoted = false;
  for (const c of text) {
    if (c === '"') quoted = !quoted;
    else if (!quoted && c === '(') depth++;
    else if (!quoted && c === ')') depth--;
    if (c === separator && depth === 0 && !quoted) {
      args.push(current);
      current = '';
    } else if (c !== '"') {
      current += c;
    }
  }
  args.push(current);
  return args;
}

// ---- $[ … ] ---------------------------------------------------------------------------------

type Token = { kind: 'value'; text: string } | { kind: 'op'; text: string };

/** Asterisk's expression parser for what dialplans write: | & = != < > <= >= + - * / % ( ). */
export function evaluateExpression(source: string): string {
  const tokens = tokenize(source);
  let at = 0;
  const peek = (): Token | undefined => tokens[at];
  const take = (): Token => {
    const t = tokens[at++];
    if (!t) throw new Error(`$[${source}]: unexpected end`);
    return t;
  };
  const binary = (next: () => Value, ops: string[], apply: (op: string, a: Value, b: Value) => Value) => (): Value => {
    let left = next();
    for (let t = peek(); t?.kind === 'op' && ops.includes(t.text); t = peek()) {
      take();
      left = apply(t.text, left, next());
    }
    return left;
  };
  const primary = (): Value => {
    const t = take();
    if (t.kind === 'value') return t.text;
    if (t.text === '(') {
      const v = or();
      if (take().text !== ')') throw new Error(`$[${source}]: ")" expected`);
      return v;
    }
    if (t.text === '-') return -toNumber(primary(), source);
    if (t.text === '!') return truthy(primary()) ? 0 : 1;
    throw new Error(`$[${source}]: unexpected ${t.text}`);
  };
  const product = binary(primary, ['*', '/', '%'], (op, a, b) => {
    const x = toNumber(a, source);
    const y = toNumber(b, source);
    return op === '*' ? x * y : op === '/' ? x / y : x % y;
  });
  const sum = binary(product, ['+', '-'], (op, a, b) => (op === '+' ? toNumber(a, source) + toNumber(b, source) : toNumber(a, source) - toNumber(b, source)));
  const comparison = binary(sum, ['=', '!=', '<', '>', '<=', '>='], (op, a, b) => {
    const numeric = isNumeric(a) && isNumeric(b);
    const x = numeric ? Number(a) : String(a);
    const y = numeric ? Number(b) : String(b);
    const result = op === '=' ? x === y : op === '!=' ? x !== y : op === '<' ? x < y : op === '>' ? x > y : op === '<=' ? x <= y : x >= y;
    return result ? 1 : 0;
  });
  const and = binary(comparison, ['&'], (_op, a, b) => (truthy(a) && truthy(b) ? a : 0));
  const or = binary(and, ['|'], (_op, a, b) => (truthy(a) ? a : b));
  const value = or();
  if (at !== tokens.length) throw new Error(`$[${source}]: unexpected ${tokens[at]?.text}`);
  return typeof value === 'number' ? formatNumber(value) : value;
}

type Value = string | number;

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i] as string;
    if (c === ' ' || c === '\t') {
      i++;
    } else if (c === '"') {
      const end = source.indexOf('"', i + 1);
      if (end < 0) throw new Error(`$[${source}]: unclosed quote`);
      tokens.push({ kind: 'value', text: source.slice(i + 1, end) });
      i = end + 1;
    } else if (source.startsWith('!=', i) || source.startsWith('<=', i) || source.startsWith('>=', i)) {
      tokens.push({ kind: 'op', text: source.slice(i, i + 2) });
      i += 2;
    } else if ('|&=<>+-*/%()!'.includes(c)) {
      tokens.push({ kind: 'op', text: c });
      i++;
    } else {
      let j = i;
      while (j < source.length && !' \t"|&=<>+-*/%()!'.includes(source[j] as string)) j++;
      tokens.push({ kind: 'value', text: source.slice(i, j) });
      i = j;
    }
  }
  return tokens;
}

function isNumeric(v: Value): boolean {
  return typeof v === 'number' || (v.trim() !== '' && !Number.isNaN(Number(v)));
}

function toNumber(v: Value, source: string): number {
  if (!isNumeric(v)) throw new Error(`$[${source}]: "${v}" is not a number`);
  return Number(v);
}

function truthy(v: Value): boolean {
  return typeof v === 'number' ? v !== 0 : v !== '' && v !== '0';
}

function formatNumber(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Number(n.toFixed(6)));
}
