/**
 * A test double of Asterisk's PBX core: it runs one channel through a loaded dialplan the way
 * main/pbx.c does, so that a test checks what a dialplan file does rather than what its lines
 * look like, against real guards over FastAGI (agi.ts) and ARI (stasis.ts).
 *
 * What it follows (shared/asterisk and Asterisk's source):
 * - A priority's data is expanded when that priority runs (expand.ts), so ExecIf() and IF()
 *   expand both branches before testing (dialplan-deadline.md (b)).
 * - Gosub() pushes a frame: ARGn and LOCAL() variables live in it and are gone after Return().
 * - Macro() runs as app_macro does (a sub-engine that counts Gosub/Return to tell a subroutine
 *   from a jump out of the macro, restores MACRO_* and ARGn); it stops when an application
 *   exits non-zero or the channel is past its absolute timeout, and only returns its caller to
 *   where it was when the channel is still in the macro's own context.
 * - TIMEOUT(absolute) (timeout.ts): when the channel is past it after a priority, the priority
 *   after it never runs; the PBX jumps to `T,1` of the context the channel is in, with the
 *   timeout cleared, or without a T hangs up with cause 0 (dialplan-deadline.md 901-931).
 * - At hangup: the `h` extension of the context the channel is in, if any, then the hangup
 *   handlers, last pushed first, on a dead channel.
 * Not modelled: channel inheritance, a real Dial(), DTMF. An application, function or CHANNEL()
 * item the double does not know throws, so it cannot pass a test by accident.
 */
import { performance } from 'node:perf_hooks';
import type { AsteriskAri } from '../asterisk-ari.js';
import { findApplication, MACRO_EXIT, strsepBranch, type DialOutcome, type DialRequest } from './applications.js';
import { Channel, type ChannelSpec, type Frame, type Location } from './channel.js';
import { findExtension, type Dialplan, type Priority } from './conf.js';
import { separateArgs, substitute, type SubstitutionScope } from './expand.js';
import { readFunction, writeFunction } from './functions.js';
import type { CallRecord, PbxHost } from './host.js';
import { AbsoluteTimeout } from './timeout.js';

export type { CallRecord, HandlerRun } from './host.js';

export interface PlaceCallOptions {
  dialplan: Dialplan;
  /** Where the call enters the dialplan. */
  context: string;
  exten: string;
  channel: ChannelSpec;
  /** Global variables that override the files' [globals], as an admin would edit them. */
  globals?: Readonly<Record<string, string>>;
  /** Channel variables set before the call reaches `context` (FreePBX's AMPUSER). */
  variables?: Readonly<Record<string, string>>;
  /** For Stasis(). */
  ari?: AsteriskAri;
  /** What the far end does for each placed Dial(). Default: answered, 4 s, then the caller hangs up. */
  dial?: (request: DialRequest) => DialOutcome | Promise<DialOutcome>;
  /** Playback() durations in ms, counted in finalAtMs. */
  playbackMs?: Readonly<Record<string, number>>;
  /** Asterisk waits for a silent FastAGI server forever; the double fails the call after this. Default 20000. */
  agiGiveUpAfterMs?: number;
  /** app_macro is loaded (Asterisk 20 and older, FreePBX 16); Asterisk 21+ have none. Default true. */
  appMacro?: boolean;
  /** The Asterisk database, `family/key` → value. */
  astdb?: Readonly<Record<string, string>>;
}

const MAX_STEPS = 10_000;

interface Step {
  res: number;
  /** The application's registered name, when it exists. */
  app?: string;
  data: string;
}

/** Runs one call from `context`,`exten`,1 until the channel hangs up, then its h extension and hangup handlers. */
export function placeCall(options: PlaceCallOptions): Promise<CallRecord> {
  return new Pbx(options).run();
}

class Pbx implements PbxHost, SubstitutionScope {
  readonly channel: Channel;
  readonly globals: Map<string, string>;
  readonly astdb: Map<string, string>;
  readonly appMacro: boolean;
  readonly timeout = new AbsoluteTimeout();
  readonly ari: AsteriskAri | undefined;
  readonly agiGiveUpAfterMs: number;
  readonly record: CallRecord = {
    log: [],
    warnings: [],
    executed: [],
    agi: [],
    stasis: [],
    dials: [],
    media: [],
    timeouts: [],
    deadlines: [],
    hangupCause: 0,
    final: '',
    finalAtMs: 0,
    variables: {},
    handlers: [],
    finalVariables: {},
  };
  private readonly t0 = performance.now();
  /** Playback() durations: they take no real time here. */
  private virtualMs = 0;
  private jumped = false;
  private steps = 0;

  constructor(private readonly options: PlaceCallOptions) {
    this.channel = new Channel(options.channel, { context: options.context, exten: options.exten });
    for (const [name, value] of Object.entries(options.variables ?? {})) this.channel.set(name, value);
    this.globals = new Map([...options.dialplan.globals, ...Object.entries(options.globals ?? {})]);
    this.astdb = new Map(Object.entries(options.astdb ?? {}));
    this.appMacro = options.appMacro ?? true;
    this.ari = options.ari;
    this.agiGiveUpAfterMs = options.agiGiveUpAfterMs ?? 20_000;
    if (!this.priorityAt(this.channel.location)) throw new Error(`no ${options.exten}@${options.context} in the dialplan`);
  }

  // --- what functions, substitution and applications see -----------------------------------

  variable(name: string): string | undefined {
    const ch = this.channel;
    switch (name) {
      case 'CHANNEL':
        return ch.name;
      case 'CONTEXT':
        return ch.location.context;
      case 'EXTEN':
        return ch.location.exten;
      case 'PRIORITY':
        return String(ch.location.priority);
      case 'UNIQUEID':
        return ch.uniqueid;
      case 'HANGUPCAUSE':
        return String(ch.hangupCause);
    }
    return ch.get(name) ?? this.globals.get(name);
  }

  callFunction(name: string, args: string): string | null {
    return readFunction(this, name, args);
  }

  log(line: string): void {
    this.record.log.push(line);
  }

  warn(line: string): void {
    this.record.log.push(line);
    this.record.warnings.push(line);
  }

  now(): number {
    return performance.now() - this.t0;
  }

  absoluteTimeoutLeft(): string {
    return this.timeout.read();
  }

  setAbsoluteTimeout(value: string): void {
    this.record.timeouts.push({ value, at: this.here(), atMs: this.now() });
    this.log(this.timeout.set(value));
  }

  async dialOutcome(request: DialRequest): Promise<DialOutcome> {
    return this.options.dial ? this.options.dial(request) : { status: 'ANSWER', answeredSeconds: 4 };
  }

  played(file: string): void {
    this.virtualMs += this.options.playbackMs?.[file] ?? 0;
  }

  assign(name: string, value: string): void {
    const fn = /^(\w+)\((.*)\)$/.exec(name.trim());
    if (fn) writeFunction(this, fn[1] as string, fn[2] as string, value);
    else this.channel.set(name.trim(), value);
  }

  setLocal(name: string, value: string): void {
    const frame = this.channel.frames.at(-1);
    if (!frame) {
      this.warn(`ERROR app_stack.c: Tried to set LOCAL(${name}), but we aren't within a Gosub routine`);
      return;
    }
    this.frameSet(frame, name, value);
  }

  private frameSet(frame: Frame, name: string, value: string): void {
    if (frame.locals.has(name)) {
      this.channel.set(name, value);
    } else {
      frame.locals.add(name);
      this.channel.push(name, value);
    }
  }

  resolve(target: string): Location | undefined {
    const parts = target.split(',').map((p) => p.trim());
    const here = this.channel.location;
    const [context, exten, priority] =
      parts.length >= 3 ? [parts[0] as string, parts[1] as string, parts[2] as string] : parts.length === 2 ? [here.context, parts[0] as string, parts[1] as string] : [here.context, here.exten, parts[0] as string];
    const priorities = findExtension(this.options.dialplan, context, exten);
    if (!priorities) return undefined;
    if (/^\d+$/.test(priority)) return { context, exten, priority: Number(priority) };
    const labelled = [...priorities.values()].find((p) => p.label === priority);
    return labelled ? { context, exten, priority: labelled.priority } : undefined;
  }

  jump(to: Location): void {
    this.channel.location = { ...to };
    this.jumped = true;
  }

  gosub(to: Location, args: string[], special = false): void {
    const ch = this.channel;
    // app_stack masks the caller's arguments beyond this call's own.
    const argc = Math.max(args.length, ch.frames.at(-1)?.argc ?? 0);
    const frame: Frame = { returnTo: { ...ch.location, priority: ch.location.priority + 1 }, locals: new Set(), special, argc };
    for (let i = 0; i < argc; i++) this.frameSet(frame, `ARG${i + 1}`, args[i] ?? '');
    this.frameSet(frame, 'ARGC', String(args.length));
    ch.frames.push(frame);
    this.jump(to);
  }

  returnFromGosub(value: string): number {
    const frame = this.channel.frames.pop();
    if (!frame) {
      this.warn('ERROR app_stack.c: Return without Gosub: stack is empty');
      return -1;
    }
    for (const name of frame.locals) this.channel.pop(name);
    this.channel.set('GOSUB_RETVAL', value);
    this.jump(frame.returnTo);
    return frame.special ? -1 : 0;
  }

  async exec(app: string, data: string): Promise<number> {
    const found = findApplication(app, this.appMacro);
    if (found === 'not loaded') {
      this.warn(`WARNING app_exec.c: Could not find application! (${app})`);
      return -1;
    }
    return found.app(this, data);
  }

  /** app_macro's macro_exec(): its own loop over the macro's priorities (apps/app_macro.c of Asterisk 20). */
  async macro(name: string, args: string[]): Promise<number> {
    const ch = this.channel;
    const full = `macro-${name}`;
    if (!findExtension(this.options.dialplan, full, 's')?.get(1)) {
      this.warn(`WARNING app_macro.c: No such context '${full}' for macro '${name}'. Was called by ${ch.location.exten}@${ch.location.context}`);
      return 0;
    }
    const depth = Number.parseInt(this.variable('MACRO_DEPTH') ?? '0', 10) || 0;
    const caller = { ...ch.location };
    const saved = new Map(['MACRO_EXTEN', 'MACRO_CONTEXT', 'MACRO_PRIORITY', 'MACRO_OFFSET'].map((v) => [v, ch.get(v)]));
    ch.set('MACRO_EXTEN', caller.exten);
    ch.set('MACRO_CONTEXT', caller.context);
    ch.set('MACRO_PRIORITY', String(caller.priority));
    ch.pop('MACRO_OFFSET');
    const oldArgs = args.map((_, i) => ch.get(`ARG${i + 1}`));
    args.forEach((arg, i) => ch.set(`ARG${i + 1}`, arg));
    ch.location = { context: full, exten: 's', priority: 1 };
    let res = 0;
    let gosubLevel = 0;
    while (this.priorityAt(ch.location)) {
      ch.set('MACRO_DEPTH', String(depth + 1));
      const step = await this.step();
      if (step.res !== 0) {
        res = step.res === MACRO_EXIT ? 0 : step.res;
        if (res !== 0) {
          this.log(`VERBOSE app_macro.c: Spawn extension (${ch.location.context}, ${ch.location.exten}, ${ch.location.priority}) exited non-zero on '${ch.name}' in macro '${name}'`);
        }
        break;
      }
      gosubLevel += gosubLevelChange(step);
      if (gosubLevel === 0 && ch.location.context !== full) {
        this.log(`VERBOSE app_macro.c: Channel '${ch.name}' jumping out of macro '${name}'`);
        break;
      }
      // "returned normally even though call was hung up": ast_check_hangup() ends the macro.
      if (this.timeout.due()) break;
      this.advance();
    }
    ch.set('MACRO_DEPTH', String(depth));
    args.forEach((_, i) => restore(ch, `ARG${i + 1}`, oldArgs[i]));
    for (const [v, value] of saved) restore(ch, v, value);
    if (ch.location.context === full) {
      ch.location = caller;
      this.jumped = false;
    } else {
      this.jumped = true;
    }
    return res;
  }

  // --- the PBX loop -------------------------------------------------------------------------

  private priorityAt(at: Location): Priority | undefined {
    return findExtension(this.options.dialplan, at.context, at.exten)?.get(at.priority);
  }

  /** pbx_extension_helper(): find the application, expand the data, run it. */
  private async step(): Promise<Step> {
    if (++this.steps > MAX_STEPS) throw new Error(`more than ${MAX_STEPS} priorities: a loop in the dialplan under test?`);
    const ch = this.channel;
    const { context, exten, priority } = ch.location;
    const p = this.priorityAt(ch.location) as Priority;
    this.jumped = false;
    this.record.executed.push(`${exten}@${context}:${priority}`);
    const found = findApplication(p.app, this.appMacro);
    if (found === 'not loaded') {
      this.warn(`WARNING pbx.c: No application '${p.app}' for extension (${context}, ${exten}, ${priority})`);
      return { res: -1, data: p.data };
    }
    const data = substitute(p.data, this);
    this.log(`VERBOSE pbx.c: Executing [${exten}@${context}:${priority}] ${found.name}("${ch.name}", "${data}") in new stack`);
    return { res: await found.app(this, data), app: found.name, data };
  }

  private advance(): void {
    if (!this.jumped) this.channel.location.priority++;
  }

  private here(): string {
    const { exten, context, priority } = this.channel.location;
    return `${exten}@${context}:${priority}`;
  }

  /** __ast_pbx_run(): priorities until one exits non-zero, none is left, or the absolute timeout passes without a T to go to. */
  private async pbxRun(): Promise<void> {
    const ch = this.channel;
    for (;;) {
      if (!this.priorityAt(ch.location)) {
        this.log(`VERBOSE pbx.c: Auto fallthrough, channel '${ch.name}' status is '${this.variable('DIALSTATUS') || 'UNKNOWN'}'`);
        return;
      }
      const { res } = await this.step();
      const timedOut = this.timeout.due();
      if (res === 0 && !timedOut) {
        this.advance();
        continue;
      }
      if (res !== 0) this.log(`VERBOSE pbx.c: Spawn extension (${ch.location.context}, ${ch.location.exten}, ${ch.location.priority}) exited non-zero on '${ch.name}'`);
      if (!timedOut) return;
      this.record.deadlines.push({ atMs: this.now(), at: this.here() });
      this.timeout.clear();
      if (!findExtension(this.options.dialplan, ch.location.context, 'T')?.get(1)) return;
      ch.location = { context: ch.location.context, exten: 'T', priority: 1 };
    }
  }

  /** The h extension or a hangup handler: priorities until one exits non-zero or none is left. */
  private async runToEnd(): Promise<void> {
    while (this.priorityAt(this.channel.location)) {
      const { res } = await this.step();
      if (res !== 0) return;
      this.advance();
    }
  }

  async run(): Promise<CallRecord> {
    const ch = this.channel;
    const { record } = this;
    try {
      await this.pbxRun();
      ch.hungUp = true;
      this.timeout.clear();
      record.hangupCause = ch.hangupCause;
      record.final = ch.state === 'Up' ? 'BYE' : ch.hangupCause === 21 ? '403 Forbidden' : ch.hangupCause === 0 ? '603 Decline' : `cause ${ch.hangupCause}`;
      record.finalAtMs = this.now() + this.virtualMs;
      record.variables = ch.snapshot();
      if (findExtension(this.options.dialplan, ch.location.context, 'h')?.get(1)) {
        ch.location = { context: ch.location.context, exten: 'h', priority: 1 };
        await this.runToEnd();
      }
      for (let handler = ch.hangupHandlers.pop(); handler !== undefined; handler = ch.hangupHandlers.pop()) {
        await this.runHangupHandler(handler);
      }
      record.finalVariables = ch.snapshot();
      return record;
    } finally {
      this.timeout.clear();
    }
  }

  /** ast_pbx_hangup_handler_run(): an internal Gosub on the dead channel, until its Return(). */
  private async runHangupHandler(spec: string): Promise<void> {
    const ch = this.channel;
    this.record.handlers.push({ location: spec, variables: ch.snapshot() });
    this.log(`VERBOSE app_stack.c: ${ch.name} Internal Gosub(${spec}) start`);
    const paren = spec.indexOf('(');
    const target = paren === -1 ? spec : spec.slice(0, paren);
    const args = paren === -1 ? [] : separateArgs(spec.slice(paren + 1, spec.lastIndexOf(')')), { removeChars: false });
    const to = this.resolve(target);
    if (!to || !this.priorityAt(to)) {
      this.warn(`ERROR app_stack.c: ${ch.name} Abnormal 'Gosub(${spec})' exit.  Popping routine return locations.`);
      return;
    }
    const depth = ch.frames.length;
    this.gosub(to, args, true);
    await this.runToEnd();
    if (ch.frames.length > depth) {
      ch.frames.length = depth;
      this.warn(`ERROR app_stack.c: ${ch.name} Abnormal 'Gosub(${spec})' exit.  Popping routine return locations.`);
      return;
    }
    this.log(`VERBOSE app_stack.c: ${ch.name} Internal Gosub(${spec}) complete GOSUB_RETVAL=${ch.get('GOSUB_RETVAL') ?? ''}`);
  }
}

/**
 * app_macro's gosub_level bookkeeping: the applications it counts as entering or leaving a
 * subroutine. It looks into ExecIf only in the old `expr|app|data` syntax, so an
 * ExecIf(cond?Gosub(...)) inside a macro is taken for a jump out of it.
 */
function gosubLevelChange({ app, data }: Step): number {
  if (app === 'Gosub') return 1;
  if (app === 'Return') return -1;
  if (app === 'GosubIf') return strsepBranch(data) !== '' ? 1 : 0;
  return 0;
}

function restore(ch: Channel, name: string, value: string | undefined): void {
  if (value === undefined) ch.pop(name);
  else ch.set(name, value);
}
