/**
 * The dialplan applications of the shipped dialplan and of FreePBX's generated trunk dialplan,
 * each as Asterisk runs it on data already expanded. Return value, as in Asterisk: 0 goes on to
 * the next priority, -1 ends the call (the channel hangs up), MACRO_EXIT leaves a Macro.
 *
 * Dial() is recorded, not placed: the test says what the far end did (DialOutcome).
 */
import { runAgi, type AgiRun } from './agi.js';
import type { Channel, Location } from './channel.js';
import { separateArgs } from './expand.js';
import { isTrue } from './expression.js';

export const MACRO_EXIT = 1024;

export type DialStatus = 'ANSWER' | 'BUSY' | 'NOANSWER' | 'CHANUNAVAIL' | 'CONGESTION' | 'CANCEL';

export interface DialOutcome {
  status: DialStatus;
  /** Whole seconds of the answered call: `${ANSWEREDTIME}`. */
  answeredSeconds?: number;
  /** The far end's Q.850 cause, `${HANGUPCAUSE}` afterwards. */
  cause?: number;
}

export interface DialOption {
  flag: string;
  arg?: string;
}

export interface DialAttempt {
  /** `PJSIP/011442079460000@carrier-a`, as Dial received it. */
  dialString: string;
  timeout: string;
  /** The options argument as Dial received it. */
  options: string;
  flags: DialOption[];
  /** The priority that ran Dial. */
  at: Location;
  /** The channel's variables at that moment. */
  variables: Record<string, string>;
  /** What happened: refused by Dial itself (L(0)), or the outcome the test gave. */
  outcome: DialOutcome | 'refused';
}

export interface PbxRecord {
  dials: DialAttempt[];
  agi: AgiRun[];
  /** `Playback()`, `PlayTones()`, `Progress()`, `Answer()` in order, as `App(data)`. */
  media: string[];
}

/** What an application may do to the PBX running it. */
export interface ApplicationHost {
  channel: Channel;
  appMacro: boolean;
  record: PbxRecord;
  dial(attempt: Omit<DialAttempt, 'outcome'>): DialOutcome;
  log(line: string): void;
  warn(line: string): void;
  /** `[[context,]exten,]priority-or-label` from the current position; undefined if it does not exist. */
  resolve(target: string): Location | undefined;
  jump(to: Location): void;
  gosub(to: Location, args: string[]): void;
  /** Pops the top frame and jumps back; -1 when it was a hangup handler's (or there was none). */
  returnFromGosub(value: string): number;
  macro(name: string, args: string[]): Promise<number>;
  /** Sets a variable, or writes a function (`CHANNEL(hangup_handler_push)`, `LOCAL(x)`). */
  assign(name: string, value: string): void;
  /** Runs an application by name on data already expanded (ExecIf). */
  exec(app: string, data: string): Promise<number>;
}

type Application = (host: ApplicationHost, data: string) => number | Promise<number>;

function parseDialOptions(options: string): DialOption[] {
  const flags: DialOption[] = [];
  for (let i = 0; i < options.length; i++) {
    const flag = options[i] as string;
    if (options[i + 1] !== '(') {
      flags.push({ flag });
      continue;
    }
    let depth = 0;
    let j = i + 1;
    for (; j < options.length; j++) {
      if (options[j] === '(') depth++;
      else if (options[j] === ')' && --depth === 0) break;
    }
    flags.push({ flag, arg: options.slice(i + 2, j) });
    i = j;
  }
  return flags;
}

const DEFAULT_CAUSE: Record<DialStatus, number> = { ANSWER: 16, BUSY: 17, NOANSWER: 19, CHANUNAVAIL: 20, CONGESTION: 34, CANCEL: 16 };

function dial(host: ApplicationHost, data: string): number {
  const [dialString = '', timeout = '', options = ''] = separateArgs(data);
  const flags = parseDialOptions(options);
  const attempt = { dialString, timeout, options, flags, at: { ...host.channel.location }, variables: host.channel.snapshot() };
  const limit = flags.find((f) => f.flag === 'L')?.arg;
  // dialplan-facts.md: L(0) and L(abc) do not dial; Dial returns -1 and sets no DIALSTATUS.
  const limitMs = limit === undefined ? undefined : Number.parseInt(limit, 10);
  if (limitMs !== undefined && (Number.isNaN(limitMs) || limitMs === 0)) {
    host.warn(`WARNING features.c: Bridge does not accept L(${limit})`);
    host.record.dials.push({ ...attempt, outcome: 'refused' });
    return -1;
  }
  const outcome = host.dial(attempt);
  host.record.dials.push({ ...attempt, outcome });
  const ch = host.channel;
  ch.set('DIALSTATUS', outcome.status);
  ch.set('ANSWEREDTIME', outcome.status === 'ANSWER' ? String(outcome.answeredSeconds ?? 0) : '');
  ch.hangupCause = outcome.cause ?? DEFAULT_CAUSE[outcome.status];
  // Without the g option an answered call ends the caller's dialplan when the bridge ends.
  return outcome.status === 'ANSWER' && !flags.some((f) => f.flag === 'g') ? -1 : 0;
}

function gotoTarget(host: ApplicationHost, target: string, app: string): number {
  const to = host.resolve(target);
  if (!to) {
    host.warn(`WARNING pbx.c: ${app}: no such destination ${target}`);
    return -1;
  }
  host.log(`VERBOSE pbx_builtins.c: Goto (${to.context},${to.exten},${to.priority})`);
  host.jump(to);
  return 0;
}

/** `label(args)` of Gosub/GosubIf: the label part and the arguments, split as app_stack does. */
function gosubTarget(spec: string): { target: string; args: string[] } {
  const paren = spec.indexOf('(');
  if (paren === -1) return { target: spec, args: [] };
  const inner = spec.slice(paren + 1, spec.lastIndexOf(')'));
  return { target: spec.slice(0, paren), args: inner === '' ? [] : separateArgs(inner) };
}

function gosub(host: ApplicationHost, spec: string): number {
  const { target, args } = gosubTarget(spec);
  const to = host.resolve(target);
  if (!to) {
    host.warn(`ERROR app_stack.c: Attempt to reach a non-existent destination for Gosub: (Context:${target})`);
    return -1;
  }
  host.gosub(to, args);
  return 0;
}

/** `cond?a[:b]`, the branches split at `:` outside parentheses. */
function conditional(data: string): { truth: boolean; whenTrue: string; whenFalse: string } {
  const q = data.indexOf('?');
  const [whenTrue = '', whenFalse = ''] = separateArgs(q === -1 ? '' : data.slice(q + 1), ':');
  return { truth: isTrue((q === -1 ? data : data.slice(0, q)).trim()), whenTrue, whenFalse };
}

/** `App(args)` of ExecIf: name before the first `(`, data up to the last `)`. */
function appCall(text: string): { app: string; data: string } {
  const paren = text.indexOf('(');
  return paren === -1 ? { app: text, data: '' } : { app: text.slice(0, paren), data: text.slice(paren + 1, text.lastIndexOf(')')) };
}

function hangupWith(host: ApplicationHost, cause: number): number {
  host.channel.hangupCause = cause;
  return -1;
}

const media = (name: string) => (host: ApplicationHost, data: string): number => {
  host.record.media.push(`${name}(${data})`);
  if (name === 'Playback') host.log(`VERBOSE file.c: <${host.channel.name}> Playing '${separateArgs(data)[0]}.gsm' (language 'en')`);
  return host.channel.hungUp ? -1 : 0;
};

/** Canonical names, as Asterisk logs them; looked up without regard to case. */
const APPLICATIONS: Record<string, Application> = {
  Set(host, data) {
    const eq = data.indexOf('=');
    if (eq <= 0) {
      host.warn(`WARNING pbx_variables.c: Set requires an '=' to be a valid assignment.`);
      return 0;
    }
    host.assign(data.slice(0, eq), data.slice(eq + 1));
    return 0;
  },
  NoOp: () => 0,
  Wait: () => 0,
  Verbose(host, data) {
    const [level, ...rest] = separateArgs(data);
    host.log(`VERBOSE app_verbose.c: ${rest.length > 0 && /^\d+$/.test(level ?? '') ? rest.join(',') : data}`);
    return 0;
  },
  Log(host, data) {
    const comma = data.indexOf(',');
    const { context, exten, priority } = host.channel.location;
    const line = `${data.slice(0, comma).toUpperCase()} Ext. ${exten}:${priority} @ ${context}: ${data.slice(comma + 1)}`;
    if (/^(WARNING|ERROR)/.test(line)) host.warn(line);
    else host.log(line);
    return 0;
  },
  Goto: (host, data) => gotoTarget(host, data, 'Goto'),
  GotoIf(host, data) {
    const { truth, whenTrue, whenFalse } = conditional(data);
    const branch = truth ? whenTrue : whenFalse;
    return branch === '' ? 0 : gotoTarget(host, branch, 'GotoIf');
  },
  ExecIf(host, data) {
    const { truth, whenTrue, whenFalse } = conditional(data);
    const chosen = truth ? whenTrue : whenFalse;
    if (chosen === '') return 0;
    const { app, data: appData } = appCall(chosen);
    return host.exec(app, appData);
  },
  Gosub: (host, data) => gosub(host, data),
  GosubIf(host, data) {
    const { truth, whenTrue, whenFalse } = conditional(data);
    const branch = truth ? whenTrue : whenFalse;
    return branch === '' ? 0 : gosub(host, branch);
  },
  Return: (host, data) => host.returnFromGosub(data),
  Macro(host, data) {
    // app_macro splits its data at every comma (strsep), not as other applications do.
    const [name = '', ...args] = data.split(',');
    return host.macro(name, args);
  },
  MacroExit: () => MACRO_EXIT,
  Dial: dial,
  AGI: async (host, data) => {
    host.record.agi.push(await runAgi(host, data, separateArgs(data)));
    return 0;
  },
  Hangup: (host, data) => hangupWith(host, Number.parseInt(data, 10) || 16),
  Busy: (host) => hangupWith(host, 17),
  Congestion: (host) => hangupWith(host, 34),
  Playback: media('Playback'),
  PlayTones: media('PlayTones'),
  Progress: media('Progress'),
  Answer: media('Answer'),
};

const BY_LOWER_NAME = new Map(Object.entries(APPLICATIONS).map(([name, app]) => [name.toLowerCase(), { name, app }]));

/** The application registered under `name` (any case); Macro and MacroExit only where app_macro is loaded. */
export function findApplication(name: string, appMacro: boolean): { name: string; app: Application } | undefined {
  const found = BY_LOWER_NAME.get(name.toLowerCase());
  if (!found || (!appMacro && (found.name === 'Macro' || found.name === 'MacroExit'))) return undefined;
  return found;
}
