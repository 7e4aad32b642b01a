/**
 * The dialplan applications of the shipped dialplans, the captures' lab contexts and FreePBX's
 * generated trunk dialplan, each as Asterisk runs it on data already expanded. Return value, as
 * in Asterisk: 0 goes on to the next priority, -1 ends the call, MACRO_EXIT leaves a Macro.
 *
 * Dial() is recorded, not placed: the test says what the far end did (DialOutcome).
 * Playback() takes no real time: its duration is counted in the caller's view (finalAtMs).
 */
import { runAgi } from './agi.js';
import type { Location } from './channel.js';
import { separateArgs } from './expand.js';
import { isTrue } from './expression.js';
import type { PbxHost } from './host.js';
import { runStasis } from './stasis.js';

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

/** What Dial() was asked to do. */
export interface DialRequest {
  /** The data as Dial received it. */
  data: string;
  /** `PJSIP/011442079460000@carrier-a`. */
  dialString: string;
  timeout: string;
  /** The options argument as Dial received it. */
  options: string;
  flags: DialOption[];
  /** The L() limit in ms as Dial reads it (its leading integer); null when Dial has no L() or an empty one (no limit). */
  limitMs: number | null;
  /** Seconds left on TIMEOUT(absolute) when Dial started; 0: none armed. */
  absoluteTimeoutS: number;
  /** The priority that ran Dial. */
  at: Location;
  atMs: number;
  /** The channel's variables at that moment. */
  variables: Record<string, string>;
}

export interface DialAttempt extends DialRequest {
  /** Dial refuses `L(0)` and a limit that is not a number (dialplan-facts.md). */
  placed: boolean;
  /** What the far end did, as the test said; 'refused' when not placed. */
  outcome: DialOutcome | 'refused';
}

type Application = (host: PbxHost, data: string) => number | Promise<number>;

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

async function dial(host: PbxHost, data: string): Promise<number> {
  const [dialString = '', timeout = '', options = ''] = separateArgs(data, { max: 4 });
  const flags = parseDialOptions(options);
  const limit = flags.find((f) => f.flag === 'L')?.arg ?? '';
  const limitText = limit.split(':')[0] as string;
  // features.c ast_bridge_timelimit(): atol() of the part before the first ':'.
  const limitMs = limitText === '' ? null : Number.parseInt(limitText, 10) || 0;
  const ch = host.channel;
  const request: DialRequest = {
    data,
    dialString,
    timeout,
    options,
    flags,
    limitMs,
    absoluteTimeoutS: host.timeout.leftSeconds(),
    at: { ...ch.location },
    atMs: host.now(),
    variables: ch.snapshot(),
  };
  if (limitMs === 0) {
    host.warn(`WARNING features.c: Bridge does not accept L(${limitText})`);
    host.record.dials.push({ ...request, placed: false, outcome: 'refused' });
    return -1;
  }
  const attempt: DialAttempt = { ...request, placed: true, outcome: 'refused' };
  host.record.dials.push(attempt);
  const outcome = await host.dialOutcome(request);
  attempt.outcome = outcome;
  ch.set('DIALSTATUS', outcome.status);
  ch.set('ANSWEREDTIME', outcome.status === 'ANSWER' ? String(outcome.answeredSeconds ?? 0) : '');
  ch.hangupCause = outcome.cause ?? DEFAULT_CAUSE[outcome.status];
  if (outcome.status === 'ANSWER') ch.state = 'Up';
  // Without the g option an answered call ends the caller's dialplan when the bridge ends.
  return outcome.status === 'ANSWER' && !flags.some((f) => f.flag === 'g') ? -1 : 0;
}

function gotoTarget(host: PbxHost, target: string, app: string): number {
  const to = host.resolve(target);
  if (!to) {
    host.warn(`WARNING pbx.c: ${app}: no such destination ${target}`);
    return -1;
  }
  host.log(`VERBOSE pbx_builtins.c: Goto (${to.context},${to.exten},${to.priority})`);
  host.jump(to);
  return 0;
}

/** app_stack gosub_exec(): `[[context,]exten,]priority[(args)]`, the arguments split as AST_STANDARD_RAW_ARGS. */
function gosub(host: PbxHost, spec: string): number {
  const paren = spec.indexOf('(');
  const target = paren === -1 ? spec : spec.slice(0, paren);
  const args = paren === -1 ? [] : separateArgs(spec.slice(paren + 1, spec.lastIndexOf(')')), { removeChars: false });
  const to = host.resolve(target);
  if (!to) {
    host.warn(`ERROR app_stack.c: Attempt to reach a non-existent destination for Gosub: (Context:${target})`);
    return -1;
  }
  host.gosub(to, args);
  return 0;
}

/** GotoIf (pbx_builtin_gotoif()) and app_macro's look at GosubIf: strsep() at the first `?`, then at the first `:`. */
export function strsepBranch(data: string): string {
  const q = data.indexOf('?');
  const branches = q === -1 ? '' : data.slice(q + 1);
  const colon = branches.indexOf(':');
  const [whenTrue, whenFalse] = colon === -1 ? [branches, ''] : [branches.slice(0, colon), branches.slice(colon + 1)];
  return isTrue(q === -1 ? data : data.slice(0, q)) ? whenTrue : whenFalse;
}

/** app_exec.c execif_exec(): `expr?app(args)[:app(args)]`, split as AST_NONSTANDARD_RAW_ARGS. */
async function execIf(host: PbxHost, data: string): Promise<number> {
  const question = data.indexOf('?');
  const comma = data.indexOf(',');
  if (question === -1 || (comma !== -1 && comma < question)) throw new Error(`ExecIf(${data}): the deprecated syntax is not modelled by the dialplan double`);
  const [expr = '', remainder = ''] = separateArgs(data, { delimiter: '?', removeChars: false, max: 2 });
  if (remainder === '') {
    host.warn('ERROR app_exec.c: Usage: ExecIf(<expr>?<appiftrue>(<args>)[:<appiffalse>(<args)])');
    return -1;
  }
  const [whenTrue = '', whenFalse = ''] = separateArgs(remainder, { delimiter: ':', removeChars: false, max: 2 });
  const truth = isTrue(expr);
  const chosen = truth ? whenTrue : whenFalse;
  if (chosen === '') {
    if (!truth) return 0;
    host.warn('WARNING app_exec.c: Could not find application! ()');
    return -1;
  }
  const paren = chosen.indexOf('(');
  const app = paren === -1 ? chosen : chosen.slice(0, paren);
  const appData = paren === -1 ? '' : chosen.slice(paren + 1, chosen.lastIndexOf(')') > paren ? chosen.lastIndexOf(')') : undefined);
  return host.exec(app, appData);
}

/** pbx_builtin_hangup(): the cause given, else the channel's, else 16 (normal clearing). */
function hangup(host: PbxHost, data: string): number {
  const ch = host.channel;
  const given = Number.parseInt(data, 10);
  if (data !== '' && !(given > 0)) host.warn(`WARNING pbx.c: Invalid cause given to Hangup(): "${data}"`);
  ch.hangupCause = given > 0 ? given : ch.hangupCause > 0 ? ch.hangupCause : 16;
  return -1;
}

function hangupWith(host: PbxHost, cause: number): number {
  host.channel.hangupCause = cause;
  return -1;
}

const media = (name: string) => (host: PbxHost, data: string): number => {
  host.record.media.push(`${name}(${data})`);
  if (name === 'Playback') {
    const [files = '', options = ''] = separateArgs(data);
    // Playback answers the channel first unless told not to.
    if (!options.split('&').includes('noanswer')) host.channel.state = 'Up';
    for (const file of files.split('&')) {
      host.log(`VERBOSE file.c: <${host.channel.name}> Playing '${file}.gsm' (language 'en')`);
      host.played(file);
    }
  }
  return host.channel.hungUp ? -1 : 0;
};

/** app_verbose.c: `Verbose([level,]message)` and `Log(level,message)`. */
function verbose(host: PbxHost, data: string): number {
  const [level = '', message] = separateArgs(data, { max: 2 });
  host.log(`VERBOSE app_verbose.c: ${message ?? level}`);
  return 0;
}

function logApp(host: PbxHost, data: string): number {
  if (data === '') return 0;
  const [level = '', message = ''] = separateArgs(data, { max: 2 });
  const { context, exten, priority } = host.channel.location;
  const name = level.toUpperCase();
  if (!['ERROR', 'WARNING', 'NOTICE', 'DEBUG', 'VERBOSE', 'DTMF'].includes(name)) {
    host.warn(`ERROR app_verbose.c: Unknown log level: '${level}'`);
    return 0;
  }
  const line = `${name} Ext. ${exten}:${priority} @ ${context}: ${message}`;
  if (name === 'WARNING' || name === 'ERROR') host.warn(line);
  else host.log(line);
  return 0;
}

/** Canonical names, as Asterisk logs them; looked up without regard to case. */
const APPLICATIONS: Record<string, Application> = {
  Set(host, data) {
    const eq = data.indexOf('=');
    if (eq === -1) {
      host.warn(`WARNING pbx_variables.c: Set requires an '=' to be a valid assignment.`);
      return 0;
    }
    host.assign(data.slice(0, eq), data.slice(eq + 1));
    return 0;
  },
  NoOp: () => 0,
  Verbose: verbose,
  Log: logApp,
  Goto: (host, data) => gotoTarget(host, data, 'Goto'),
  GotoIf(host, data) {
    const target = strsepBranch(data);
    return target === '' ? 0 : gotoTarget(host, target, 'GotoIf');
  },
  ExecIf: execIf,
  Gosub: (host, data) => gosub(host, data),
  GosubIf(host, data) {
    // app_stack gosubif_exec(): AST_NONSTANDARD_RAW_ARGS at `?`, then at `:`.
    const [condition = '', labels] = separateArgs(data, { delimiter: '?', removeChars: false, max: 2 });
    if (labels === undefined) {
      host.warn('WARNING app_stack.c: GosubIf requires an argument: GosubIf(cond?label1(args):label2(args)');
      return 0;
    }
    const [whenTrue = '', whenFalse = ''] = separateArgs(labels, { delimiter: ':', removeChars: false, max: 2 });
    const target = isTrue(condition) ? whenTrue : whenFalse;
    return target === '' ? 0 : gosub(host, target);
  },
  Return: (host, data) => host.returnFromGosub(data),
  Macro(host, data) {
    // app_macro splits its data at every comma (strsep), not as other applications do.
    const [name = '', ...args] = data.split(',');
    return host.macro(name, args);
  },
  MacroExit: () => MACRO_EXIT,
  Dial: dial,
  AGI: runAgi,
  Stasis: runStasis,
  Hangup: hangup,
  Busy: (host) => hangupWith(host, 17),
  Congestion: (host) => hangupWith(host, 34),
  Playback: media('Playback'),
  PlayTones: media('PlayTones'),
  Progress: media('Progress'),
};

const BY_LOWER_NAME = new Map(Object.entries(APPLICATIONS).map(([name, app]) => [name.toLowerCase(), { name, app }]));

export type Found = { name: string; app: Application } | 'not loaded';

/**
 * The application registered under `name` (any case). Macro and MacroExit are 'not loaded'
 * without app_macro (Asterisk 21+): Asterisk then has no such application. Any other name the
 * double does not model is an error, so that it cannot pass a test by accident.
 */
export function findApplication(name: string, appMacro: boolean): Found {
  const found = BY_LOWER_NAME.get(name.toLowerCase());
  if (!found) throw new Error(`the dialplan double does not model the application ${name}()`);
  return !appMacro && (found.name === 'Macro' || found.name === 'MacroExit') ? 'not loaded' : found;
}

/** What `Log(level,message)` at exten@context writes (app_verbose.c log_exec()), at any priority: for a test to match. */
export function appLogLine(level: string, exten: string, context: string, message: string): RegExp {
  const quote = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${level} Ext\\. ${quote(exten)}:\\d+ @ ${quote(context)}: ${quote(message)}$`);
}
