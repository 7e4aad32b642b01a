/**
 * The FastAGI wire format as Asterisk 22 speaks it (facts in shared/asterisk/agi-notes.md).
 * Pure: no sockets, no timers. The session feeds it bytes and lines.
 */
import { DialguardError } from '../errors.js';

/** Stable error codes of the AGI transport; callers match on these, never on messages. */
export const AgiErrorCode = {
  /** No reply to a command within its timeout. */
  timeout: 'DG_AGI_TIMEOUT',
  /** The session is closed (or closing): the command was not or could not be answered. */
  closed: 'DG_AGI_CLOSED',
  /** The peer did not finish the environment in time. */
  envTimeout: 'DG_AGI_ENV_TIMEOUT',
  /** No traffic for too long. */
  idle: 'DG_AGI_IDLE',
  /** The peer sent something that is not FastAGI. */
  protocol: 'DG_AGI_PROTOCOL',
  /** A line longer than the limit. */
  lineTooLong: 'DG_AGI_LINE_TOO_LONG',
  /** A command we refuse to send (it would be misparsed by Asterisk). */
  badCommand: 'DG_AGI_BAD_COMMAND',
  /** Asterisk answered a command with an error (510, 511, 520): nothing was done. */
  rejected: 'DG_AGI_REJECTED',
  /** The request path has no handler. */
  unknownPath: 'DG_AGI_UNKNOWN_PATH',
  /** A handler did not finish by its deadline plus grace. */
  handlerTimeout: 'DG_AGI_HANDLER_TIMEOUT',
} as const;
export type AgiErrorCode = (typeof AgiErrorCode)[keyof typeof AgiErrorCode];

export const MAX_LINE_BYTES = 8192;
/** Asterisk sends 22 fixed lines plus one per argument (AGI() accepts at most 128). */
export const MAX_ENV_LINES = 256;

const LF = 0x0a;
const EMPTY = Buffer.alloc(0);

/**
 * Splits a byte stream into LF-terminated lines, whatever the chunking. Works on bytes so that a
 * UTF-8 character cut between two chunks is decoded whole. The terminator is LF only: Asterisk
 * never sends CR, so a CR would be part of the line.
 */
export class LineSplitter {
  private pending: Buffer = EMPTY;

  constructor(private readonly maxLineBytes: number = MAX_LINE_BYTES) {}

  /** Returns the lines completed by this chunk; throws DG_AGI_LINE_TOO_LONG past the limit. */
  push(chunk: Buffer): string[] {
    const data = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    const lines: string[] = [];
    let start = 0;
    for (let lf = data.indexOf(LF, start); lf !== -1; lf = data.indexOf(LF, start)) {
      this.assertLength(lf - start);
      lines.push(data.toString('utf8', start, lf));
      start = lf + 1;
    }
    this.assertLength(data.length - start);
    // Asterisk writes whole lines, so most chunks leave nothing behind: no copy then. A rest is
    // copied because `chunk` is the socket's buffer.
    this.pending = start === data.length ? EMPTY : Buffer.from(data.subarray(start));
    return lines;
  }

  /** Bytes received after the last complete line. */
  get pendingBytes(): number {
    return this.pending.length;
  }

  private assertLength(bytes: number): void {
    if (bytes > this.maxLineBytes) {
      throw new DialguardError(AgiErrorCode.lineTooLong, `line longer than ${this.maxLineBytes} bytes`);
    }
  }
}

/** The environment Asterisk sends first. Missing fields are empty strings. */
export interface AgiEnvironment {
  network: string;
  /** `agi_network_script` as sent: path and query string, not decoded (`authorize?src=lab`). */
  networkScript: string;
  request: string;
  channel: string;
  language: string;
  type: string;
  uniqueid: string;
  version: string;
  callerid: string;
  calleridname: string;
  callingpres: string;
  callingani2: string;
  callington: string;
  callingtns: string;
  dnid: string;
  rdnis: string;
  context: string;
  extension: string;
  priority: string;
  enhanced: string;
  accountcode: string;
  threadid: string;
  /** `agi_arg_1` .. `agi_arg_N` in order; empty arguments kept. */
  args: string[];
  /** The script path without the query string (`authorize`). Routing key. */
  path: string;
  /** The decoded query string of the AGI URL. */
  query: URLSearchParams;
  /** Every `agi_*` line as received, by name. */
  raw: Record<string, string>;
}

const ENV_NAME = /^agi_[a-z0-9_]+$/i;
const ARG_NAME = /^agi_arg_([1-9][0-9]*)$/;

/** Splits one environment line on its FIRST `: ` (values may contain `: ` themselves). */
export function parseEnvironmentLine(line: string): [name: string, value: string] {
  const sep = line.indexOf(': ');
  const name = sep === -1 ? '' : line.slice(0, sep);
  if (!ENV_NAME.test(name)) {
    throw new DialguardError(AgiErrorCode.protocol, 'not an AGI environment line', { line: line.slice(0, 80) });
  }
  return [name, line.slice(sep + 2)];
}

/** Builds the typed environment from ordered `agi_*` pairs. */
export function environmentFromPairs(pairs: ReadonlyArray<readonly [string, string]>): AgiEnvironment {
  // A plain object (names all start with `agi_`, so never `__proto__`): every session adds the
  // same keys in the same order, which keeps V8 on one shared hidden class instead of a dictionary.
  const raw: Record<string, string> = {};
  const argsByIndex = new Map<number, string>();
  for (const [name, value] of pairs) {
    raw[name] = value;
    const arg = ARG_NAME.exec(name);
    if (arg) argsByIndex.set(Number(arg[1]), value);
  }
  const argCount = argsByIndex.size === 0 ? 0 : Math.max(...argsByIndex.keys());
  if (argCount > MAX_ENV_LINES) {
    throw new DialguardError(AgiErrorCode.protocol, `argument index ${argCount} out of range`);
  }
  const field = (name: string): string => raw[`agi_${name}`] ?? '';
  const networkScript = field('network_script');
  const { path, query } = splitScript(networkScript);
  return {
    network: field('network'),
    networkScript,
    request: field('request'),
    channel: field('channel'),
    language: field('language'),
    type: field('type'),
    uniqueid: field('uniqueid'),
    version: field('version'),
    callerid: field('callerid'),
    calleridname: field('calleridname'),
    callingpres: field('callingpres'),
    callingani2: field('callingani2'),
    callington: field('callington'),
    callingtns: field('callingtns'),
    dnid: field('dnid'),
    rdnis: field('rdnis'),
    context: field('context'),
    extension: field('extension'),
    priority: field('priority'),
    enhanced: field('enhanced'),
    accountcode: field('accountcode'),
    threadid: field('threadid'),
    args: Array.from({ length: argCount }, (_, i) => argsByIndex.get(i + 1) ?? ''),
    path,
    query,
    raw,
  };
}

function splitScript(script: string): { path: string; query: URLSearchParams } {
  const q = script.indexOf('?');
  const path = (q === -1 ? script : script.slice(0, q)).replace(/^\/+/, '');
  return { path, query: new URLSearchParams(q === -1 ? '' : script.slice(q + 1)) };
}

/**
 * Collects environment lines up to the blank line. Anything that is not an `agi_*` line is
 * garbage: the caller cuts the peer off.
 */
export class EnvironmentCollector {
  private readonly pairs: Array<[string, string]> = [];

  /** Returns the environment once the blank line arrives, undefined before. */
  push(line: string): AgiEnvironment | undefined {
    if (line === '') {
      if (this.pairs.length === 0) throw new DialguardError(AgiErrorCode.protocol, 'empty AGI environment');
      return environmentFromPairs(this.pairs);
    }
    if (this.pairs.length >= MAX_ENV_LINES) {
      throw new DialguardError(AgiErrorCode.protocol, `more than ${MAX_ENV_LINES} environment lines`);
    }
    this.pairs.push(parseEnvironmentLine(line));
    return undefined;
  }
}

export interface AgiSuccessReply {
  code: 200;
  /** `result=` value as sent (`1`, `0`, `-2`). */
  result: string;
  /** Text between the first `(` and the last `)`, unescaped as Asterisk sends it. */
  data?: string;
  endpos?: string;
}

export interface AgiErrorReply {
  /** 510 unknown command, 511 not permitted on a dead channel, 520 usage. */
  code: number;
  message: string;
  /** The usage text lines of a multi-line 520 reply. */
  usage: string[];
}

export type AgiReply = AgiSuccessReply | AgiErrorReply;

export const isSuccess = (reply: AgiReply): reply is AgiSuccessReply => reply.code === 200;

export type AgiInbound = { kind: 'reply'; reply: AgiReply } | { kind: 'hangup' };

// dotAll: a variable's value may hold a CR (or U+2028), which `.` would not match otherwise.
const SUCCESS = /^200 result=(\S*)(?: \((.*)\))?(?: endpos=(-?\d+))?$/s;
const FINAL = /^([1-5]\d\d) (.*)$/s;
const CONTINUED = /^([1-5]\d\d)-(.*)$/s;

/**
 * Turns the lines Asterisk sends after the environment into replies and unsolicited `HANGUP`
 * lines. A multi-line reply (`520-…` … `520 End of proper usage.`) may arrive in several chunks.
 */
export class ReplyReader {
  private open?: { code: number; message: string; usage: string[] };

  push(line: string): AgiInbound | undefined {
    if (this.open) {
      const end = FINAL.exec(line);
      if (end && Number(end[1]) === this.open.code) {
        const reply: AgiErrorReply = { ...this.open };
        this.open = undefined;
        return { kind: 'reply', reply };
      }
      this.open.usage.push(line);
      return undefined;
    }
    if (line === 'HANGUP') return { kind: 'hangup' };
    const continued = CONTINUED.exec(line);
    if (continued) {
      this.open = { code: Number(continued[1]), message: continued[2] ?? '', usage: [] };
      return undefined;
    }
    return { kind: 'reply', reply: parseReplyLine(line) };
  }
}

/** Parses a single-line reply. Throws DG_AGI_PROTOCOL for anything else. */
export function parseReplyLine(line: string): AgiReply {
  const ok = SUCCESS.exec(line);
  if (ok) {
    const reply: AgiSuccessReply = { code: 200, result: ok[1] ?? '' };
    if (ok[2] !== undefined) reply.data = ok[2];
    if (ok[3] !== undefined) reply.endpos = ok[3];
    return reply;
  }
  const final = FINAL.exec(line);
  if (final && final[1] !== '200') return { code: Number(final[1]), message: final[2] ?? '', usage: [] };
  throw new DialguardError(AgiErrorCode.protocol, 'not an AGI reply', { line: line.slice(0, 80) });
}

const VARIABLE_NAME = /^[A-Za-z0-9_]+$/;

/**
 * Quotes one argument so that Asterisk's parser gives it back unchanged: inside quotes only `\`
 * and `"` are special. CR and LF are dropped because LF ends the command (the rest would run as a
 * second command) and CR would be stored; NUL is dropped because Asterisk reads C strings.
 */
export function quoteArgument(value: string): string {
  return `"${value.replace(/[\r\n\0]/g, '').replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** `SET VARIABLE NAME "value"\n`; the name is restricted to letters, digits and underscore. */
export function setVariableCommand(name: string, value: string): string {
  if (!VARIABLE_NAME.test(name)) {
    throw new DialguardError(AgiErrorCode.badCommand, 'variable name must be letters, digits and underscores', { name });
  }
  return `SET VARIABLE ${name} ${quoteArgument(value)}\n`;
}

/** `VERBOSE "text" level\n`; Asterisk's verbose levels are 1 to 4. */
export function verboseCommand(text: string, level = 1): string {
  if (!Number.isInteger(level) || level < 1 || level > 4) {
    throw new DialguardError(AgiErrorCode.badCommand, 'verbose level must be 1 to 4', { level });
  }
  return `VERBOSE ${quoteArgument(text)} ${level}\n`;
}
