/**
 * A dialplan interpreter for tests: runs one channel through a loaded dialplan the way
 * Asterisk's PBX core does, so that a test can check what a dialplan file does rather than
 * what its lines look like. Supported: the applications of applications.ts, the functions of
 * functions.ts, `${}` / `$[]` substitution, Gosub frames with LOCAL variables, Macro() as
 * app_macro runs it (a sub-engine that counts Gosub/Return to tell a subroutine from a jump
 * out of the macro, restores MACRO_* and ARGn), the h extension and hangup handlers, AGI()
 * over real TCP. Not modelled: timers (TIMEOUT(absolute) is stored, never fires), the T
 * extension, channel inheritance, Local channels, a real Dial().
 *
 * Log lines follow Asterisk's verbose log without the timestamp and thread:
 * `VERBOSE pbx.c: Executing [s@ctx:1] Set("PJSIP/1001-00000001", "X=1") in new stack`.
 */
import { findApplication, MACRO_EXIT, type ApplicationHost, type DialAttempt, type DialOutcome, type PbxRecord } from './applications.js';
import { Channel, type ChannelOptions, type Frame, type Location } from './channel.js';
import { findExtension, type Dialplan, type Priority } from './conf.js';
import { separateArgs, substitute, type SubstitutionScope } from './expand.js';
import { isTrue } from './expression.js';
import { readFunction, writeFunction, type FunctionHost } from './functions.js';

export interface CallOptions {
  dialplan: Dialplan;
  channel: ChannelOptions;
  /** Where the call enters the dialplan. */
  start: { context: string; exten: string; priority?: number };
  /** What the far end does for each Dial(). Default: answered, 60 s. */
  dial?: (attempt: Omit<DialAttempt, 'outcome'>) => DialOutcome;
  /** app_macro is loaded (Asterisk 20 and older, FreePBX 16); Asterisk 21+ have none. Default true. */
  appMacro?: boolean;
  /** The Asterisk database, `family/key` → value. */
  astdb?: Readonly<Record<string, string>>;
  /** Global variables that override the files' [globals] (a test's guard address). */
  globals?: Readonly<Record<string, string>>;
}

export interface CallResult extends PbxRecord {
  channel: Channel;
  /** Asterisk's verbose log of the call, WARNING lines included. */
  log: string[];
  /** The WARNING and ERROR lines of the log. */
  warnings: string[];
  hangupCause: number;
  /** Each hangup handler run, as pushed (`dialguard-hangup,s,1`). */
  handlersRun: string[];
}

const MAX_STEPS = 10_000;

interface Step {
  res: number;
  /** The application's registered name, when it exists. */
  app?: string;
  data: string;
}

class Pbx implements ApplicationHost, FunctionHost, SubstitutionScope {
  readonly channel: Channel;
  readonly globals: Map<string, string>;
  readonly astdb: Map<string, string>;
  readonly appMacro: boolean;
  readonly record: PbxRecord = { dials: [], agi: [], media: [] };
  readonly lines: string[] = [];
  readonly warnings: string[] = [];
  readonly handlersRun: string[] = [];
  private jumped = false;
  private steps = 0;

  constructor(private readonly options: CallOptions) {
    this.channel = new Channel(options.channel);
    this.globals = new Map([...options.dialplan.globals, ...Object.entries(options.globals ?? {})]);
    this.astdb = new Map(Object.entries(options.astdb ?? {}));
    this.appMacro = options.appMacro ?? true;
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

  callFunction(name: string, args: string): string {
    return readFunction(this, name, args);
  }

  log(line: string): void {
    this.lines.push(line);
  }

  warn(line: string): void {
    this.lines.push(line);
    this.warnings.push(line);
  }

  dial(attempt: Omit<DialAttempt, 'outcome'>): DialOutcome {
    return this.options.dial ? this.options.dial(attempt) : { status: 'ANSWER', answeredSeconds: 60 };
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
    const previous = ch.frames.at(-1);
    const frame: Frame = { returnTo: { ...ch.location, priority: ch.location.priority + 1 }, locals: new Set(), special, argc: args.length };
    // app_stack masks the caller's arguments beyond this call's own.
    const count = Math.max(args.length, previous?.argc ?? 0);
    for (let i = 0; i < count; i++) this.frameSet(frame, `ARG${i + 1}`, args[i] ?? '');
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
    if (!found) {
      this.warn(`WARNING app_exec.c: Could not find application! (${app})`);
      return -1;
    }
    return found.app(this, data);
  }

  /** app_macro's macro_exec(): its own loop over the macro's priorities (apps/app_macro.c). */
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
    ch.unset('MACRO_OFFSET');
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
      if (ch.hungUp) break;
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

  private async step(): Promise<Step> {
    if (++this.steps > MAX_STEPS) throw new Error(`more than ${MAX_STEPS} priorities: a loop in the dialplan under test?`);
    const ch = this.channel;
    const { context, exten, priority } = ch.location;
    const p = this.priorityAt(ch.location) as Priority;
    this.jumped = false;
    const data = substitute(p.data, this);
    const found = findApplication(p.app, this.appMacro);
    this.log(`VERBOSE pbx.c: Executing [${exten}@${context}:${priority}] ${found?.name ?? p.app}("${ch.name}", "${data}") in new stack`);
    if (!found) {
      this.warn(`WARNING pbx.c: No application '${p.app}' for extension (${context}, ${exten}, ${priority})`);
      return { res: -1, data };
    }
    return { res: await found.app(this, data), app: found.name, data };
  }

  private advance(): void {
    if (!this.jumped) this.channel.location.priority++;
  }

  /** Runs priorities until one returns non-zero or there is none; 'end' when none. */
  private async loop(): Promise<number | 'end'> {
    for (;;) {
      if (!this.priorityAt(this.channel.location)) return 'end';
      const { res } = await this.step();
      if (res !== 0) return res;
      this.advance();
    }
  }

  async run(): Promise<void> {
    const ch = this.channel;
    const { context, exten, priority = 1 } = this.options.start;
    ch.location = { context, exten, priority };
    const res = await this.loop();
    if (res === 'end') {
      this.log(`VERBOSE pbx.c: Auto fallthrough, channel '${ch.name}' status is '${this.variable('DIALSTATUS') || 'UNKNOWN'}'`);
    } else {
      this.log(`VERBOSE pbx.c: Spawn extension (${ch.location.context}, ${ch.location.exten}, ${ch.location.priority}) exited non-zero on '${ch.name}'`);
    }
    ch.hungUp = true;
    if (ch.hangupCause === 0) ch.hangupCause = 16;
    if (findExtension(this.options.dialplan, ch.location.context, 'h')) {
      ch.location = { context: ch.location.context, exten: 'h', priority: 1 };
      await this.loop();
    }
    for (let handler = ch.hangupHandlers.pop(); handler !== undefined; handler = ch.hangupHandlers.pop()) {
      await this.runHangupHandler(handler);
    }
  }

  /** ast_pbx_hangup_handler_run(): an internal Gosub on the dead channel, until its Return(). */
  private async runHangupHandler(spec: string): Promise<void> {
    const ch = this.channel;
    this.handlersRun.push(spec);
    this.log(`VERBOSE app_stack.c: ${ch.name} Internal Gosub(${spec}) start`);
    const paren = spec.indexOf('(');
    const target = paren === -1 ? spec : spec.slice(0, paren);
    const args = paren === -1 ? [] : separateArgs(spec.slice(paren + 1, spec.lastIndexOf(')')));
    const to = this.resolve(target);
    if (!to || !this.priorityAt(to)) {
      this.warn(`ERROR app_stack.c: ${ch.name} Abnormal 'Gosub(${spec})' exit.  Popping routine return locations.`);
      return;
    }
    const depth = ch.frames.length;
    this.gosub(to, args, true);
    await this.loop();
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
  if (app === 'GosubIf') {
    const q = data.indexOf('?');
    const [whenTrue = '', whenFalse = ''] = separateArgs(data.slice(q + 1), ':');
    return (isTrue(data.slice(0, q).trim()) ? whenTrue : whenFalse) !== '' ? 1 : 0;
  }
  return 0;
}

function restore(ch: Channel, name: string, value: string | undefined): void {
  if (value === undefined) ch.unset(name);
  else ch.set(name, value);
}

/** Runs one call from `start` until the channel hangs up, then its h extension and hangup handlers. */
export async function runCall(options: CallOptions): Promise<CallResult> {
  const pbx = new Pbx(options);
  await pbx.run();
  return {
    ...pbx.record,
    channel: pbx.channel,
    log: pbx.lines,
    warnings: pbx.warnings,
    hangupCause: pbx.channel.hangupCause,
    handlersRun: pbx.handlersRun,
  };
}
